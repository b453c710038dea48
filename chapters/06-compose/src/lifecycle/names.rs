//! Names for containers created without `--name`: an adjective and the surname of someone
//! who shaped operating systems or computing (`brave_hopper`), as docker gives every container
//! a name so that `ps` always has something to show and a user something to type.

/// The adjectives.
const ADJECTIVES: &[&str] = &[
    "agile", "bold", "brave", "bright", "calm", "clever", "cool", "curious", "daring", "eager",
    "earnest", "fair", "fearless", "focused", "gentle", "happy", "keen", "kind", "lively", "lucid",
    "merry", "mindful", "modest", "nimble", "noble", "patient", "peaceful", "plucky", "quick",
    "quiet", "rapid", "serene", "sharp", "steady", "sunny", "swift", "tender", "thrifty", "tidy",
    "upbeat", "vivid", "warm", "wise", "witty", "zealous",
];

/// The people.
const PEOPLE: &[&str] = &[
    "allen",
    "backus",
    "bartik",
    "berners_lee",
    "cerf",
    "corbato",
    "dijkstra",
    "engelbart",
    "floyd",
    "goldberg",
    "hamilton",
    "hoare",
    "hopper",
    "kahn",
    "kay",
    "kernighan",
    "knuth",
    "lamport",
    "liskov",
    "lovelace",
    "mccarthy",
    "metcalfe",
    "minsky",
    "moore",
    "naur",
    "perlman",
    "pike",
    "ritchie",
    "shannon",
    "sammet",
    "stallman",
    "sutherland",
    "tanenbaum",
    "thompson",
    "torvalds",
    "turing",
    "wheeler",
    "wilkes",
    "wirth",
    "wozniak",
];

/// A name from `random` (any number; the caller draws a new one when the name is taken).
pub fn generate(random: u64) -> String {
    let adjective = ADJECTIVES[(random % ADJECTIVES.len() as u64) as usize];
    let person = PEOPLE[((random / ADJECTIVES.len() as u64) % PEOPLE.len() as u64) as usize];
    format!("{adjective}_{person}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_an_adjective_and_a_person() {
        assert_eq!(super::generate(0), "agile_allen");
        let name = super::generate(123_456_789);
        assert!(name.contains('_') && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
    }
}
