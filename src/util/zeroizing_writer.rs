//! A growable buffer that wipes every allocation it leaves behind, for serializing secrets.
//! (A plain `Vec` leaves the old contents in freed memory each time it grows.)

use std::io::{self, Write};

use zeroize::{Zeroize, Zeroizing};

pub struct ZeroizingWriter(Zeroizing<Vec<u8>>);

impl ZeroizingWriter {
    pub fn with_capacity(capacity: usize) -> Self {
        Self(Zeroizing::new(Vec::with_capacity(capacity)))
    }

    pub fn into_inner(self) -> Zeroizing<Vec<u8>> {
        self.0
    }
}

impl Write for ZeroizingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let needed = self.0.len() + buf.len();
        if needed > self.0.capacity() {
            let mut grown = Vec::with_capacity(needed.max(self.0.capacity() * 2));
            grown.extend_from_slice(&self.0);
            self.0.zeroize();
            self.0 = Zeroizing::new(grown);
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
