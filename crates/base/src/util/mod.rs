//! The bottom layer beside `crypto`: crash-safe file writes, buffers that wipe what they leave
//! behind, process hardening and time formatting. Nothing here knows about keys, keystores or faces.

pub mod atomic_file;
pub mod database;
pub mod db_accounts;
pub mod folder_watch;
pub mod i18n;
pub mod process;
pub mod secret;
pub mod time;
pub mod writeback;
pub mod zeroizing_writer;

pub use atomic_file::AtomicFile;
pub use secret::{SecretBytes, SecretString};
pub use time::format_time;
pub use zeroizing_writer::ZeroizingWriter;

/// A size for people: `256 MiB` when it is a whole number of the unit, else one decimal and the
/// exact count (`256.0 MiB (268435457 bytes)`), so a size just over a limit never reads as the limit.
pub fn byte_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if bytes >= unit {
            return if bytes.is_multiple_of(unit) {
                format!("{} {name}", bytes / unit)
            } else {
                format!("{:.1} {name} ({bytes} bytes)", bytes as f64 / unit as f64)
            };
        }
    }
    format!("{bytes} bytes")
}

/// Lower-case hex of `bytes`, in one allocation.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = vec![0u8; bytes.len() * 2];
    hex_into(bytes, &mut out);
    // Hex digits are ASCII, so this keeps the allocation and never falls back.
    String::from_utf8(out).unwrap_or_default()
}

/// Lower-case hex of `bytes` into `out`, two digits a byte, as far as `out` reaches (no
/// allocation: the API's signature check hex-encodes three digests per request on the stack).
pub fn hex_into(bytes: &[u8], out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, &byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
}

#[cfg(test)]
mod hex_tests {
    #[test]
    fn hex_is_lower_case_two_digits_a_byte() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(super::hex(&[]), "");
        let mut out = [b'-'; 5];
        assert_eq!(super::byte_size(256 << 20), "256 MiB");
        assert_eq!(
            super::byte_size((256 << 20) + 1),
            "256.0 MiB (268435457 bytes)"
        );
        assert_eq!(super::byte_size(1536), "1.5 KiB (1536 bytes)");
        assert_eq!(super::byte_size(7), "7 bytes");
        super::hex_into(&[0xa5, 0x0f], &mut out);
        assert_eq!(&out, b"a50f-");
    }
}
