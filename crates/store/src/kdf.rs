//! Password to key-encryption key: Argon2id with parameters stored in the header and capped, so a
//! hostile file cannot make the app allocate gigabytes or spin for minutes.

use argon2::{Algorithm, Argon2, Params, Version};
use zeroize::Zeroizing;

use super::format::KdfParams;
use keyconsole_base::crypto::KEY_LEN;

/// 64 MiB, 3 passes, 1 lane: the design default (about half a second here).
pub const DEFAULT_PARAMS: KdfParams = KdfParams {
    memory_kib: 64 * 1024,
    iterations: 3,
    parallelism: 1,
};
/// The caps bound what a hostile header can cost before the password is even checked: 256 MiB, and
/// memory × passes at most 768 MiB (256 MiB × 3, 128 MiB × 6, 64 MiB × 12): about 2 s on a
/// 2-core laptop-class machine. `init` can write nothing above them either.
pub const MAX_MEMORY_KIB: u32 = 256 * 1024;
pub const MAX_ITERATIONS: u32 = 12;
pub const MAX_PARALLELISM: u32 = 16;
/// Memory (KiB) × passes.
pub const MAX_COST: u64 = 768 * 1024;

/// Why parameters are refused, in words for the user.
pub fn check_params(params: &KdfParams) -> Result<(), String> {
    if params.memory_kib > MAX_MEMORY_KIB {
        return Err(format!(
            "its KDF asks for {} MiB of memory, more than the limit of {} MiB",
            params.memory_kib / 1024,
            MAX_MEMORY_KIB / 1024
        ));
    }
    if u64::from(params.memory_kib) * u64::from(params.iterations) > MAX_COST {
        return Err(format!(
            "its KDF asks for {} MiB × {} passes; memory × passes may be at most {} MiB",
            params.memory_kib / 1024,
            params.iterations,
            MAX_COST / 1024
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
