//! Hostile: does what the event's subject id says: `spin` (never returns), `hog N` (grabs N
//! MiB), `recurse` (unbounded recursion), `panic`, or `ok`.

use airlock_sdk::{Connector, ConnectorError, Event, Outcome};

struct Hostile;

#[inline(never)]
fn recurse(depth: u64, trail: &mut Vec<u64>) -> u64 {
    // The Vec push keeps the frame from being optimised into a loop.
    trail.push(depth);
    recurse(depth + 1, trail) + trail.len() as u64
}

impl Connector for Hostile {
    fn handle_event(event: Event) -> Result<Outcome, ConnectorError> {
        let mut words = event.subject_id.split(' ');
        match words.next().unwrap_or("") {
            "spin" => {
                let mut x: u64 = 0;
                loop {
                    x = core::hint::black_box(x.wrapping_add(1));
                }
            }
            "hog" => {
                let mib: usize = words.next().and_then(|n| n.parse().ok()).unwrap_or(1024);
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                for _ in 0..mib {
                    hoard.push(vec![1u8; 1 << 20]);
                }
                Ok(Outcome::acted(format!("held {} MiB", hoard.len())))
            }
            "recurse" => Ok(Outcome::acted(format!("{}", recurse(0, &mut Vec::new())))),
            "panic" => panic!("hostile connector panicked on purpose"),
            _ => Ok(Outcome::acted("ok")),
        }
    }
}

airlock_sdk::export!(Hostile, manifest = "../airlock.toml");
