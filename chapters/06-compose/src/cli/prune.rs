//! What `container prune` and `volume prune` share: docker's question before, and docker's
//! report after.

use std::io::{BufRead, Write};

/// Asks `WARNING! This will remove WHAT.` as docker asks; only `y` goes on.
pub fn confirmed(what: &str) -> std::io::Result<bool> {
    let mut stdout = std::io::stdout().lock();
    write!(
        stdout,
        "WARNING! This will remove {what}.\nAre you sure you want to continue? [y/N] "
    )?;
    stdout.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y"))
}

/// `Deleted Containers:` (or `Volumes:`) and the names, then the space reclaimed.
pub fn report(heading: &str, deleted: &[String], reclaimed: u64) -> String {
    let mut text = String::new();
    if !deleted.is_empty() {
        text.push_str(&format!("Deleted {heading}:\n"));
        for name in deleted {
            text.push_str(&format!("{name}\n"));
        }
        text.push('\n');
    }
    text.push_str(&format!(
        "Total reclaimed space: {}\n",
        human_size(reclaimed)
    ));
    text
}

/// docker's `units.HumanSize`: decimal units, four significant digits (`1.536MB`).
pub fn human_size(bytes: u64) -> String {
    dockyard_support::format::human_size_with_precision(bytes, 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reclaimed_space_reads_as_dockers() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(12), "12B");
        assert_eq!(human_size(1_536_003), "1.536MB");
        assert_eq!(human_size(100_000), "100kB");
        assert_eq!(human_size(1_234_567_890), "1.235GB");
    }
}
