//! Small HTTP(S) servers on 127.0.0.1 standing in for a payment gateway, a courier, or a
//! canary that must never be reached. Each records every connection and request it sees and
//! answers from a script the test sets.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request a provider received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Method.
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Header lines as received, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Received {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How a provider answers.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// Send no `Content-Length` and end the body by closing the connection.
    pub close_delimited: bool,
    /// Never answer (a slow-loris provider).
    pub stall: bool,
}

impl Reply {
    /// `status` with a JSON body.
    pub fn json(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
            close_delimited: false,
            stall: false,
        }
    }

    /// Add a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// An answer that never comes.
    pub fn stall() -> Reply {
        Reply {
            stall: true,
            ..Reply::json(200, "")
        }
    }
}

type Script = Box<dyn Fn(&Received) -> Reply + Send + Sync>;

/// A running local provider.
pub struct Provider {
    /// Where it listens.
    pub addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Script>>,
    task: tokio::task::JoinHandle<()>,
}

/// A self-signed certificate for local HTTPS providers.
pub struct TestCert {
    /// The certificate, DER (give it to `NetworkPolicy::trust_root`).
    pub der: Vec<u8>,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl TestCert {
    /// A certificate for `names`.
    pub fn new(names: &[&str]) -> TestCert {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let certified = rcgen::generate_simple_self_signed(names).expect("generate a certificate");
        let der = certified.cert.der().to_vec();
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![der.clone().into()], key)
            .expect("server certificate");
        TestCert {
            der,
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        }
    }
}

impl Provider {
    /// A plain-HTTP provider answering 200 `{}` until scripted otherwise.
    pub async fn start() -> Provider {
        Provider::launch(None).await
    }

    /// An HTTPS provider presenting `cert`.
    pub async fn start_tls(cert: &TestCert) -> Provider {
        Provider::launch(Some(cert.acceptor.clone())).await
    }

    async fn launch(tls: Option<tokio_rustls::TlsAcceptor>) -> Provider {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let connections = Arc::new(AtomicUsize::new(0));
        let received = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Mutex<Script>> =
            Arc::new(Mutex::new(Box::new(|_: &Received| Reply::json(200, "{}"))));
        let task = {
            let (connections, received, script) =
                (connections.clone(), received.clone(), script.clone());
            tokio::spawn(async move {
                while let Ok((tcp, _)) = listener.accept().await {
                    connections.fetch_add(1, Ordering::SeqCst);
                    let (received, script, tls) = (received.clone(), script.clone(), tls.clone());
                    tokio::spawn(async move {
                        match tls {
                            Some(acceptor) => {
                                if let Ok(stream) = acceptor.accept(tcp).await {
                                    serve(stream, received, script).await;
                                }
                            }
                            None => serve(tcp, received, script).await,
                        }
                    });
                }
            })
        };
        Provider {
            addr,
            connections,
            received,
            script,
            task,
        }
    }

    /// Answer every request with `script`.
    pub fn answer(&self, script: impl Fn(&Received) -> Reply + Send + Sync + 'static) {
        *self.script.lock().expect("script lock") = Box::new(script);
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Requests received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("received lock").clone()
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Script>>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_owned();
    let target = first.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let mut body = buf[head_end + 4..].to_vec();
    // Read the whole request before answering: a reply and close while the client is still
    // sending its body makes the client fail to write it (seen as a rare flake).
    while if chunked {
        !body.ends_with(b"0\r\n\r\n")
    } else {
        body.len() < length
    } {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    if chunked {
        body = dechunk(&body);
    }
    let request = Received {
        method,
        target,
        headers,
        body,
    };
    let reply = (script.lock().expect("script lock"))(&request);
    received.lock().expect("received lock").push(request);
    if reply.stall {
        tokio::time::sleep(Duration::from_secs(60)).await;
        return;
    }
    let mut out = format!(
        "HTTP/1.1 {} Scripted\r\nconnection: close\r\n",
        reply.status
    );
    if !reply.close_delimited {
        out.push_str(&format!("content-length: {}\r\n", reply.body.len()));
    }
    for (name, value) in &reply.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let _ = stream.write_all(out.as_bytes()).await;
    let _ = stream.write_all(&reply.body).await;
    let _ = stream.shutdown().await;
}

/// The payload of a chunked body (sizes in hex, each chunk followed by CRLF, a 0 chunk last).
fn dechunk(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        rest = &rest[line_end + 2..];
        if size == 0 || rest.len() < size {
            break;
        }
        out.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..).unwrap_or_default();
    }
    out
}
