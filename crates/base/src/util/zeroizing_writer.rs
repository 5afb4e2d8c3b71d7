//! A growable buffer that wipes every allocation it leaves behind, for serializing secrets.
//! (A plain `Vec` leaves the old contents in freed memory each time it grows.)

use std::io::{self, Write};

use super::secret::{SecretBytes, wipe_vec};

pub struct ZeroizingWriter(SecretBytes);

impl ZeroizingWriter {
    pub fn with_capacity(capacity: usize) -> Self {
        Self(SecretBytes::with_capacity(capacity))
    }

    pub fn into_inner(self) -> SecretBytes {
        self.0
    }
}

impl Write for ZeroizingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let needed = self.0.len() + buf.len();
        if needed > self.0.capacity() {
            let mut grown = SecretBytes::with_capacity(needed.max(self.0.capacity() * 2));
            grown.extend_from_slice(&self.0);
            wipe_vec(&mut self.0);
            self.0 = grown;
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
