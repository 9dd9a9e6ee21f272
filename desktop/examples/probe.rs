//! Asks the accessibility bus what the desktop exposes, and how long it takes.
//!
//! ```text
//! cargo run -p desktop --example probe -- apps
//! cargo run -p desktop --example probe -- at 600 400 [repeat]
//! cargo run -p desktop --example probe -- focused
//! cargo run -p desktop --example probe -- find "First name"
//! ```

use std::time::{Duration, Instant};

use desktop::{A11y, WindowQuery};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let t = Instant::now();
    let a11y = A11y::connect()?;
    eprintln!("connected in {:.1} ms", ms(t.elapsed()));
    let budget = Duration::from_millis(500);
    match args.first().map(String::as_str) {
        Some("apps") => {
            for app in a11y.apps()? {
                println!("{app:?} exposes={}", app.exposes_elements());
            }
        }
        Some("at") => {
            let x: i32 = args.get(1).ok_or("x")?.parse()?;
            let y: i32 = args.get(2).ok_or("y")?.parse()?;
            let repeat: usize = args.get(3).map(|r| r.parse()).transpose()?.unwrap_or(1);
            let mut times = Vec::new();
            let mut last = None;
            for _ in 0..repeat {
                let t = Instant::now();
                last = a11y.element_at(x, y, budget)?;
                times.push(ms(t.elapsed()));
            }
            println!("{last:#?}");
            print_times(&mut times);
        }
        Some("focused") => println!("{:#?}", a11y.focused(budget)?),
        Some("find") => {
            let name = args.get(1).ok_or("name")?.clone();
            let t = Instant::now();
            let hits = a11y.find(
                &WindowQuery::default(),
                &|e| e.name.as_deref() == Some(name.as_str()),
                Duration::from_secs(5),
            )?;
            eprintln!("find took {:.1} ms", ms(t.elapsed()));
            for h in &hits {
                println!("{:?} text={:?}", h.element, a11y.read_text(h)?);
            }
        }
        _ => return Err("usage: probe apps | at X Y [repeat] | focused | find NAME".into()),
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn print_times(times: &mut [f64]) {
    times.sort_by(f64::total_cmp);
    let q = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    eprintln!(
        "{} lookups: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        times.len(),
        q(0.5),
        q(0.95),
        q(1.0)
    );
}
