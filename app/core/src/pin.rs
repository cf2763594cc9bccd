//! The supervisor PIN: kept in the station config only as a salted, slow
//! hash (PBKDF2-HMAC-SHA256), so that reading the config does not give away
//! the PIN. Written `pbkdf2-sha256$<rounds>$<salt hex>$<hash hex>`; make one
//! with `actrec hash-pin`.
//!
//! A four-digit PIN has only 10 000 values, so the hash slows an attacker who
//! has the file but cannot stop one; what protects the PIN on the panel is
//! the engine's lockout after wrong tries (see [`Lockout`]).

use std::fmt;

use sha2::Sha256;

const SCHEME: &str = "pbkdf2-sha256";
/// Rounds for new hashes: about 0.1 s on a Jetson Nano's A57, once per acknowledgement.
pub const DEFAULT_ROUNDS: u32 = 60_000;
const MIN_ROUNDS: u32 = 10_000;
const HASH_BYTES: usize = 32;

#[derive(Clone, PartialEq, Eq)]
pub struct PinHash {
    rounds: u32,
    salt: Vec<u8>,
    hash: [u8; HASH_BYTES],
}

impl fmt::Debug for PinHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PinHash(..)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PinError {
    #[error("a supervisor PIN is 4 to 12 digits")]
    BadPin,
    #[error("not a PIN hash: expected `{SCHEME}$<rounds>$<salt hex>$<hash hex>` (make one with `actrec hash-pin`)")]
    Format,
    #[error("{0} rounds are too few: at least {MIN_ROUNDS}")]
    TooFewRounds(u32),
}

/// Whether `pin` is acceptable as a supervisor PIN.
pub fn check_pin(pin: &str) -> Result<(), PinError> {
    if (4..=12).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(PinError::BadPin)
    }
}

impl PinHash {
    /// Hashes `pin` with `salt` (give 16 random bytes).
    pub fn new(pin: &str, salt: &[u8], rounds: u32) -> Result<Self, PinError> {
        check_pin(pin)?;
        if rounds < MIN_ROUNDS {
            return Err(PinError::TooFewRounds(rounds));
        }
        Ok(Self {
            rounds,
            salt: salt.to_vec(),
            hash: derive(pin, salt, rounds),
        })
    }

    pub fn parse(text: &str) -> Result<Self, PinError> {
        let mut fields = text.split('$');
        let (Some(SCHEME), Some(rounds), Some(salt), Some(hash), None) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return Err(PinError::Format);
        };
        let rounds: u32 = rounds.parse().map_err(|_| PinError::Format)?;
        if rounds < MIN_ROUNDS {
            return Err(PinError::TooFewRounds(rounds));
        }
        let salt = crate::hex::decode(salt)
            .filter(|s| s.len() >= 8)
            .ok_or(PinError::Format)?;
        let hash = crate::hex::decode(hash)
            .and_then(|h| <[u8; HASH_BYTES]>::try_from(h).ok())
            .ok_or(PinError::Format)?;
        Ok(Self { rounds, salt, hash })
    }

    pub fn verify(&self, pin: &str) -> bool {
        let candidate = derive(pin, &self.salt, self.rounds);
        // Constant time, so the comparison does not tell how much matched.
        candidate.iter().zip(&self.hash).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

impl fmt::Display for PinHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{SCHEME}${}${}${}",
            self.rounds,
            crate::hex::encode(&self.salt),
            crate::hex::encode(&self.hash)
        )
    }
}

fn derive(pin: &str, salt: &[u8], rounds: u32) -> [u8; HASH_BYTES] {
    let mut out = [0u8; HASH_BYTES];
    pbkdf2::pbkdf2_hmac::<Sha256>(pin.as_bytes(), salt, rounds, &mut out);
    out
}

/// Wrong tries before the PIN pad locks, and for how long.
pub const LOCKOUT_AFTER: u32 = 5;
pub const LOCKOUT_SECONDS: f64 = 60.0;

/// Counts wrong PINs; after [`LOCKOUT_AFTER`] in a row, every try is refused
/// for [`LOCKOUT_SECONDS`]. Times are seconds on any monotonic clock.
#[derive(Debug, Default)]
pub struct Lockout {
    wrong_in_a_row: u32,
    locked_until: Option<f64>,
}

/// What happened to one try.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Attempt {
    Accepted,
    Wrong {
        tries_left: u32,
    },
    /// Refused unchecked; the pad unlocks in this many seconds.
    Locked {
        seconds: f64,
    },
}

impl Lockout {
    /// Judges a try at time `now`; `correct` is only called when not locked.
    pub fn attempt(&mut self, now: f64, correct: impl FnOnce() -> bool) -> Attempt {
        if let Some(until) = self.locked_until {
            if now < until {
                return Attempt::Locked { seconds: until - now };
            }
            self.locked_until = None;
            self.wrong_in_a_row = 0;
        }
        if correct() {
            self.wrong_in_a_row = 0;
            return Attempt::Accepted;
        }
        self.wrong_in_a_row += 1;
        if self.wrong_in_a_row >= LOCKOUT_AFTER {
            self.locked_until = Some(now + LOCKOUT_SECONDS);
            return Attempt::Locked {
                seconds: LOCKOUT_SECONDS,
            };
        }
        Attempt::Wrong {
            tries_left: LOCKOUT_AFTER - self.wrong_in_a_row,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALT: &[u8] = b"0123456789abcdef";

    #[test]
    fn a_hash_verifies_its_pin_only_and_round_trips_through_text() {
        let hash = PinHash::new("2468", SALT, MIN_ROUNDS).expect("valid");
        let parsed = PinHash::parse(&hash.to_string()).expect("parses");
        assert_eq!(parsed, hash);
        assert!(parsed.verify("2468"));
        assert!(!parsed.verify("2469"));
        assert!(!parsed.verify(""));
        assert!(!format!("{hash:?}").contains("2468"));
    }

    #[test]
    fn malformed_hashes_and_pins_are_refused() {
        assert_eq!(PinHash::parse("1234"), Err(PinError::Format));
        assert_eq!(PinHash::parse("pbkdf2-sha256$x$00$00"), Err(PinError::Format));
        assert_eq!(
            PinHash::parse("pbkdf2-sha256$5$0011223344556677$00"),
            Err(PinError::TooFewRounds(5))
        );
        assert_eq!(PinHash::new("12a4", SALT, MIN_ROUNDS), Err(PinError::BadPin));
        assert_eq!(PinHash::new("123", SALT, MIN_ROUNDS), Err(PinError::BadPin));
    }

    #[test]
    fn five_wrong_tries_lock_the_pad_for_a_minute() {
        let mut lockout = Lockout::default();
        for left in (1..LOCKOUT_AFTER).rev() {
            assert_eq!(lockout.attempt(0.0, || false), Attempt::Wrong { tries_left: left });
        }
        assert_eq!(lockout.attempt(1.0, || false), Attempt::Locked { seconds: 60.0 });
        // Even the right PIN is refused while locked, and is not checked.
        assert_eq!(
            lockout.attempt(31.0, || panic!("checked while locked")),
            Attempt::Locked { seconds: 30.0 }
        );
        assert_eq!(lockout.attempt(61.0, || true), Attempt::Accepted);
        assert_eq!(lockout.attempt(62.0, || false), Attempt::Wrong { tries_left: 4 });
    }
}
