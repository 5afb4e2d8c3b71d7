//! Password to key-encryption key: Argon2id with parameters stored in the header and capped, so a
//! hostile file cannot make the app allocate gigabytes or spin for minutes.

use argon2::{Algorithm, Argon2, Params, Version};
use zeroize::Zeroizing;

use super::format::KdfParams;
use crate::crypto::KEY_LEN;

/// 64 MiB, 3 passes, 1 lane: the design default (about half a second here).
pub const DEFAULT_PARAMS: KdfParams = KdfParams {
    memory_kib: 64 * 1024,
    iterations: 3,
    parallelism: 1,
};
pub const MAX_MEMORY_KIB: u32 = 1024 * 1024;
pub const MAX_ITERATIONS: u32 = 20;
pub const MAX_PARALLELISM: u32 = 16;

/// Why parameters are refused, in words for the user.
pub fn check_params(params: &KdfParams) -> Result<(), String> {
    if params.memory_kib > MAX_MEMORY_KIB {
        return Err(format!(
            "its KDF asks for {} MiB of memory, more than the limit of 1024 MiB",
            params.memory_kib / 1024
        ));
    }
    if params.iterations == 0 || params.iterations > MAX_ITERATIONS {
        return Err(format!(
            "its KDF asks for {} passes; 1 to {MAX_ITERATIONS} are allowed",
            params.iterations
        ));
    }
    if params.parallelism == 0 || params.parallelism > MAX_PARALLELISM {
        return Err(format!(
            "its KDF asks for {} lanes; 1 to {MAX_PARALLELISM} are allowed",
            params.parallelism
        ));
    }
    if params.memory_kib < 8 * params.parallelism {
        return Err(format!(
            "its KDF memory of {} KiB is below Argon2's minimum",
            params.memory_kib
        ));
    }
    Ok(())
}

pub fn derive_kek(
    password: &[u8],
    salt: &[u8],
    params: &KdfParams,
) -> Result<Zeroizing<[u8; KEY_LEN]>, String> {
    check_params(params)?;
    let argon_params = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(KEY_LEN),
    )
    .map_err(|e| format!("its KDF parameters are invalid ({e})"))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params);
    let mut kek = Zeroizing::new([0u8; KEY_LEN]);
    argon
        .hash_password_into(password, salt, kek.as_mut_slice())
        .map_err(|e| format!("the KDF failed ({e})"))?;
    Ok(kek)
}
