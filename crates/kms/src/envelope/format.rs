//! The encrypted file's header, format 1 (see the parent module for the layout). Parsed here,
//! apart from the crypto.

use std::io::{self, Read};

use super::chunked::CHUNK_LEN;
use super::decrypt_error;
use crate::blob::{self, Blob};
use crate::error::Result;

pub const MAGIC: &[u8; 6] = b"KCFILE";
pub const FORMAT: u8 = 1;
pub const FIXED_HEADER_LEN: usize = 13;

/// The header that carries `wrapped` (a binary CiphertextBlob of the data key).
pub fn build_header(wrapped: &[u8]) -> Vec<u8> {
    let mut header = Vec::with_capacity(FIXED_HEADER_LEN + wrapped.len());
    header.extend_from_slice(MAGIC);
    header.push(FORMAT);
    header.extend_from_slice(&(CHUNK_LEN as u32).to_be_bytes());
    header.extend_from_slice(&(wrapped.len() as u16).to_be_bytes());
    header.extend_from_slice(wrapped);
    header
}

/// Reads until `buf` is full or the input ends; returns how much was read.
pub fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads and checks the header of an encrypted file; returns its bytes and the wrapped data key.
pub fn read_header(reader: &mut impl Read) -> Result<(Vec<u8>, Blob)> {
    let mut fixed = [0u8; FIXED_HEADER_LEN];
    let n = read_full(reader, &mut fixed).map_err(|e| decrypt_error(e.to_string()))?;
    if n < FIXED_HEADER_LEN || &fixed[..6] != MAGIC {
        return Err(decrypt_error(keyconsole_base::text!(
            "errors.it_is_not_a_file_encrypted"
        )));
    }
    if fixed[6] != FORMAT {
        return Err(decrypt_error(keyconsole_base::text!(
            "errors.it_has_format_fixed_this_keyconsole",
            fixed = fixed[6],
            value = FORMAT
        )));
    }
    let chunk = u32::from_be_bytes([fixed[7], fixed[8], fixed[9], fixed[10]]);
    if chunk as usize != CHUNK_LEN {
        return Err(decrypt_error(keyconsole_base::text!(
            "errors.its_header_names_a_chunk_size"
        )));
    }
    let blob_len = usize::from(u16::from_be_bytes([fixed[11], fixed[12]]));
    if blob_len > blob::MAX_LEN {
        return Err(decrypt_error(keyconsole_base::text!(
            "errors.its_wrapped_data_key_is_too"
        )));
    }
    let mut header = fixed.to_vec();
    header.resize(FIXED_HEADER_LEN + blob_len, 0);
    let n = read_full(reader, &mut header[FIXED_HEADER_LEN..])
        .map_err(|e| decrypt_error(e.to_string()))?;
    if n < blob_len {
        return Err(decrypt_error(keyconsole_base::text!(
            "errors.it_is_truncated"
        )));
    }
    let blob = Blob::from_bytes(&header[FIXED_HEADER_LEN..]).map_err(|_| {
        decrypt_error(keyconsole_base::text!(
            "errors.its_wrapped_data_key_is_malformed"
        ))
    })?;
    Ok((header, blob))
}
