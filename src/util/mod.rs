//! The bottom layer beside `crypto`: crash-safe file writes, buffers that wipe what they leave
//! behind, process hardening and time formatting. Nothing here knows about keys, keystores or faces.

pub mod atomic_file;
pub mod database;
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

/// Lower-case hex of `bytes`, in one allocation (signatures are hex-encoded on every API request).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod hex_tests {
    #[test]
    fn hex_is_lower_case_two_digits_a_byte() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(super::hex(&[]), "");
    }
}
