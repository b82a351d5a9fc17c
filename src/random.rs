//! Unpredictable numbers (the sandbox's tokens and GUIDs, its faults, retry jitter), from the standard
//! library's randomly keyed hasher: no crate for what a test server needs.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

pub fn next() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

/// `len` lower-case hex digits.
pub fn hex(len: usize) -> String {
    let mut out = String::with_capacity(len + 16);
    while out.len() < len {
        out.push_str(&format!("{:016x}", next()));
    }
    out.truncate(len);
    out
}

/// A number in `[0, 1)`.
pub fn unit() -> f64 {
    (next() >> 11) as f64 / (1_u64 << 53) as f64
}

/// A random (version 4 shaped) GUID, as Bizagi's guidUser.
pub fn guid() -> String {
    let h = hex(32);
    format!(
        "{}-{}-4{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
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
        assert_ne!(a, super::guid());
        assert_eq!(super::hex(40).len(), 40);
        assert_ne!(super::hex(40), super::hex(40));
    }
}
