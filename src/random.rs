//! Unpredictable numbers from the operating system's random source (ring's
//! `SystemRandom`): the sandbox's access tokens, client secrets and GUIDs, its faults,
//! and the client's retry jitter.

use ring::rand::{SecureRandom, SystemRandom};

fn fill(bytes: &mut [u8]) {
    // The OS source does not fail on the systems scimops runs on; if it ever did, no
    // token or id could be made safely, so stopping is the only right answer.
    SystemRandom::new()
        .fill(bytes)
        .expect("the operating system's random source failed");
}

pub fn next() -> u64 {
    let mut bytes = [0; 8];
    fill(&mut bytes);
    u64::from_le_bytes(bytes)
}

/// `len` lower-case hex digits.
pub fn hex(len: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = vec![0; len.div_ceil(2)];
    fill(&mut bytes);
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]])
        .take(len)
        .map(char::from)
        .collect()
}

/// A number in `[0, 1)`.
pub fn unit() -> f64 {
    (next() >> 11) as f64 / (1_u64 << 53) as f64
}

/// A random GUID (RFC 4122 version 4, variant 10), as Bizagi's guidUser.
pub fn guid() -> String {
    let mut b = [0_u8; 16];
    fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // variant RFC 4122
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_have_their_shape_and_differ() {
        let a = super::guid();
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
        assert_eq!(&a[14..15], "4", "version 4: {a}");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "variant: {a}");
        assert_ne!(a, super::guid());
        assert_eq!(super::hex(40).len(), 40);
        assert_eq!(super::hex(7).len(), 7);
        assert_ne!(super::hex(40), super::hex(40));
        let u = super::unit();
        assert!((0.0..1.0).contains(&u));
    }
}
