//! Hostile: does what the event's subject id says, each a way to hurt the host or its
//! neighbours: `spin` (never returns), `hog N` (grabs N MiB), `recurse` (unbounded
//! recursion), `panic`, `flood N` (N host calls), `spew N` (an N MiB summary), `fill N`
//! (N MiB of storage writes), `mark X` (leave X in memory and storage), `peek` (report any
//! marker found in memory or storage), `sleep N` (wait N ms in `wasi:io/poll`), `shout N`
//! (N KiB to stdout), `random N K` (K requests of N random bytes each), `polls N` (one
//! `poll` on the same pollable N times), `hoard N` (hold N pollables at once), or `ok`. Its health
//! check panics.

use std::sync::Mutex;

use airlock_sdk::{Connector, ConnectorError, Event, Outcome, log, storage};

struct Hostile;

/// Survives between calls only if the host reuses an instance's memory.
static MARK: Mutex<String> = Mutex::new(String::new());

#[inline(never)]
fn recurse(depth: u64, trail: &mut Vec<u64>) -> u64 {
    // The Vec push keeps the frame from being optimised into a loop.
    trail.push(depth);
    recurse(depth + 1, trail) + trail.len() as u64
}

impl Connector for Hostile {
    fn handle_event(event: Event) -> Result<Outcome, ConnectorError> {
        let words: Vec<&str> = event.subject_id.split(' ').collect();
        let command = words.first().copied().unwrap_or("");
        let arg = words.get(1).copied();
        let n: usize = arg.and_then(|n| n.parse().ok()).unwrap_or(1024);
        match command {
            "spin" => {
                let mut x: u64 = 0;
                loop {
                    x = core::hint::black_box(x.wrapping_add(1));
                }
            }
            "hog" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                for _ in 0..n {
                    hoard.push(vec![1u8; 1 << 20]);
                }
                Ok(Outcome::acted(format!("held {} MiB", hoard.len())))
            }
            "recurse" => Ok(Outcome::acted(format!("{}", recurse(0, &mut Vec::new())))),
            "panic" => panic!("hostile connector panicked on purpose"),
            "flood" => {
                let mut refused = 0;
                for _ in 0..n {
                    if storage::get("x").is_err() {
                        refused += 1;
                    }
                }
                Ok(Outcome::acted(format!("{refused} refused")))
            }
            "spew" => Ok(Outcome::acted("x".repeat(n << 20))),
            "fill" => {
                let chunk = vec![7u8; 60 * 1024];
                let mut stored = 0;
                for i in 0..(n * 1024 / 60) {
                    if storage::set(&format!("fill-{i}"), &chunk).is_err() {
                        log::warn("a write was refused; writing on");
                    } else {
                        stored += 1;
                    }
                }
                Ok(Outcome::acted(format!("stored {stored} chunks")))
            }
            "mark" => {
                let marker = arg.unwrap_or("marker").to_owned();
                storage::set("mark", marker.as_bytes())?;
                *MARK.lock().unwrap_or_else(|e| e.into_inner()) = marker;
                Ok(Outcome::acted("marked"))
            }
            "peek" => {
                let memory = MARK.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let stored = storage::get("mark")?
                    .map(|v| String::from_utf8_lossy(&v).into_owned())
                    .unwrap_or_default();
                Ok(Outcome::acted(format!(
                    "memory=[{memory}] storage=[{stored}]"
                )))
            }
            "sleep" => {
                std::thread::sleep(std::time::Duration::from_millis(n as u64));
                Ok(Outcome::acted("slept"))
            }
            "shout" => {
                let line = "x".repeat(1023);
                for _ in 0..n {
                    println!("{line}");
                }
                Ok(Outcome::acted("shouted"))
            }
            "random" => {
                let times: usize = words.get(2).and_then(|k| k.parse().ok()).unwrap_or(1);
                let mut got = 0;
                for _ in 0..times {
                    got += wasip2::random::random::get_random_bytes(n as u64).len();
                }
                Ok(Outcome::acted(format!("got {got} random bytes")))
            }
            "polls" => {
                let timer = wasip2::clocks::monotonic_clock::subscribe_duration(1_000_000);
                wasip2::io::poll::poll(&vec![&timer; n]);
                Ok(Outcome::acted("polled"))
            }
            "hoard" => {
                let held: Vec<_> = (0..n)
                    .map(|_| wasip2::clocks::monotonic_clock::subscribe_duration(1_000_000))
                    .collect();
                Ok(Outcome::acted(format!("held {} pollables", held.len())))
            }
            _ => Ok(Outcome::acted("ok")),
        }
    }

    fn health_check() -> Result<(), ConnectorError> {
        panic!("hostile health check panicked on purpose")
    }
}

airlock_sdk::export!(Hostile, manifest = "../airlock.toml");
