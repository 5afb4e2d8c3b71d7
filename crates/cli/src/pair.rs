//! Key pairs: `sign`, `verify`, `key public-key`, and `decrypt --key` (what was encrypted to a
//! key's public key). Signatures and ciphertexts are raw bytes in files, as OpenSSL reads and
//! writes them, and base64 on a terminal.

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::Args;

use super::Context;
use super::output::{OutputFile, read_input, write_stdout};
use keyconsole_kms::service::{Caller, KmsService};
use keyconsole_kms::{ErrorCode, KeyUsage, KmsError, MessageType, PLAINTEXT_MAX_BYTES, Result};

/// What `sign` and `verify` both take: the key, the algorithm, and the message.
#[derive(Debug, Args)]
pub struct MessageArgs {
    /// KeyId or alias of a signing key pair
    #[arg(long)]
    key: String,
    /// SM2DSA, ECC_P256_R1, ECDSA384, RSA_PSS_SHA_256 or RSA_PKCS1_SHA_256 [default: the key's first]
    #[arg(long)]
    algorithm: Option<String>,
    /// The input is the message's digest (32 bytes; 48 for ECDSA384), not the message
    #[arg(long)]
    digest: bool,
    /// Read the message from FILE (1-4096 bytes) [default: standard input]
    #[arg(long = "in", value_name = "FILE")]
    input: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    #[command(flatten)]
    message: MessageArgs,
    /// Write the signature's bytes to FILE [default: base64 on standard output]
    #[command(flatten)]
    out: OutputFile,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    message: MessageArgs,
    /// The signature's bytes (as `sign --out` and OpenSSL write them)
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "signature_base64"
    )]
    signature: Option<PathBuf>,
    /// The signature in base64 (as `sign` prints it)
    #[arg(long, value_name = "BASE64", conflicts_with = "signature")]
    signature_base64: Option<String>,
}

#[derive(Debug, Args)]
pub struct PublicKeyArgs {
    key: String,
    /// PEM (`-----BEGIN PUBLIC KEY-----`) instead of base64 DER
    #[arg(long)]
    pem: bool,
    #[command(flatten)]
    out: OutputFile,
}

/// A signature is at most this long (RSA-2048: 256 bytes; DER ECDSA P-384: ~104).
const SIGNATURE_MAX_BYTES: usize = 1024;

fn message_type(digest: bool) -> MessageType {
    if digest {
        MessageType::Digest
    } else {
        MessageType::Raw
    }
}

/// The algorithm asked for, or the key's first (RSA keys: RSA_PSS_SHA_256).
fn algorithm(
    service: &dyn KmsService,
    caller: &Caller,
    key: &str,
    given: Option<String>,
) -> Result<String> {
    if let Some(given) = given {
        return Ok(given);
    }
    let usage = service.describe_key(caller, key)?.key_usage;
    KeyUsage::from_name(&usage)
        .and_then(KeyUsage::pair_kind)
        .and_then(|kind| kind.sign_algorithms().first())
        .map(|a| a.name().to_owned())
        .ok_or_else(|| {
            KmsError::new(
                ErrorCode::InvalidKeyUsage,
                keyconsole_base::text!("errors.key_alias_decrypts_it_does_not", alias = key),
            )
        })
}

pub fn sign(context: &Context, args: SignArgs) -> Result<()> {
    let message = read_input(args.message.input.as_deref(), PLAINTEXT_MAX_BYTES + 1)?;
    let service = context.service()?;
    let caller = context.caller();
    args.out.check(service.keystore_path())?;
    let key = &args.message.key;
    let algorithm = algorithm(service.as_ref(), &caller, key, args.message.algorithm)?;
    let signature = service.sign(
        &caller,
        key,
        &algorithm,
        message_type(args.message.digest),
        &message,
    )?;
    if args.out.path.is_some() {
        args.out.write(service.keystore_path(), &signature)
    } else {
        write_stdout(format!("{}\n", STANDARD.encode(&signature)).as_bytes())
    }
}

/// Whether the signature is valid: true prints "Signature valid", false "Signature NOT valid"
/// (the caller exits 1, as `openssl dgst -verify` does).
pub fn verify(context: &Context, args: VerifyArgs) -> Result<bool> {
    let signature = match (&args.signature, &args.signature_base64) {
        (Some(path), _) => read_input(Some(path), SIGNATURE_MAX_BYTES)?.to_vec(),
        (None, Some(text)) => STANDARD.decode(text.trim()).map_err(|_| {
            KmsError::new(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!("errors.name_must_be_base64", name = "--signature-base64"),
            )
        })?,
        (None, None) => Vec::new(),
    };
    let message = read_input(args.message.input.as_deref(), PLAINTEXT_MAX_BYTES + 1)?;
    let service = context.service()?;
    let caller = context.caller();
    let key = &args.message.key;
    let algorithm = algorithm(service.as_ref(), &caller, key, args.message.algorithm)?;
    let valid = service.verify(
        &caller,
        key,
        &algorithm,
        message_type(args.message.digest),
        &message,
        &signature,
    )?;
    println!(
        "{}",
        if valid {
            "Signature valid"
        } else {
            "Signature NOT valid"
        }
    );
    Ok(valid)
}

pub fn public_key(context: &Context, args: PublicKeyArgs) -> Result<()> {
    let service = context.service()?;
    args.out.check(service.keystore_path())?;
    let public = service.public_key(&context.caller(), &args.key)?;
    let text = if args.pem {
        public.pem
    } else {
        format!("{}\n", STANDARD.encode(&public.der))
    };
    args.out.write(service.keystore_path(), text.as_bytes())
}

#[derive(Debug, Args)]
pub struct ImportParamsArgs {
    key: String,
    /// How the material will be wrapped: RSAES_OAEP_SHA_256 (default), RSAES_OAEP_SHA_1 or RSAES_PKCS1_V1_5
    #[arg(long, default_value = "RSAES_OAEP_SHA_256")]
    algorithm: String,
    /// Write the wrapping public key to FILE as PEM (for `openssl pkeyutl -encrypt -pubin -inkey FILE`)
    #[command(flatten)]
    out: OutputFile,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    key: String,
    /// The token `key import-params` printed (it may begin with `-`)
    #[arg(long, allow_hyphen_values = true)]
    token: String,
    /// The wrapped material's bytes (32 bytes of AES-256 or 16 of SM4 material, encrypted to the
    /// wrapping public key)
    #[arg(long, value_name = "FILE")]
    material: PathBuf,
    /// When the material expires (Unix seconds) [default: never]
    #[arg(long, value_name = "UNIX_TIME", default_value_t = 0)]
    valid_to: i64,
}

pub fn import_params(context: &Context, args: ImportParamsArgs) -> Result<()> {
    let service = context.service()?;
    args.out.check(service.keystore_path())?;
    let params = service.get_parameters_for_import(
        &context.caller(),
        &args.key,
        &args.algorithm,
        Some("RSA_2048"),
    )?;
    let pem = keyconsole_base::crypto::asymmetric::public_key_pem(&params.public_key);
    if args.out.path.is_some() {
        args.out.write(service.keystore_path(), pem.as_bytes())?;
    } else {
        print!("{pem}");
    }
    println!("ImportToken        {}", params.token);
    println!(
        "ParametersValidTo  {}",
        super::output::format_time(params.valid_to)
    );
    Ok(())
}

pub fn import(context: &Context, args: ImportArgs) -> Result<()> {
    let material = read_input(Some(&args.material), SIGNATURE_MAX_BYTES)?;
    let service = context.service()?;
    service.change_keys(
        &context.caller(),
        std::slice::from_ref(&args.key),
        keyconsole_kms::service::KeyChange::ImportMaterial {
            encrypted_material: material.to_vec(),
            token: args.token,
            valid_to: args.valid_to,
        },
    )?;
    eprintln!("Key material imported; the key is enabled.");
    Ok(())
}

/// `decrypt --key`: the raw ciphertext made with the key's public key.
pub fn decrypt(
    context: &Context,
    key: &str,
    algorithm: Option<&str>,
    input: Option<&std::path::Path>,
    out: &OutputFile,
) -> Result<()> {
    let ciphertext = read_input(input, SIGNATURE_MAX_BYTES)?;
    let service = context.service()?;
    let caller = context.caller();
    out.check(service.keystore_path())?;
    // SM2 keys need no algorithm; RSA keys default to OAEP with SHA-256.
    let usage = service.describe_key(&caller, key)?.key_usage;
    let algorithm = match (KeyUsage::from_name(&usage), algorithm) {
        (Some(KeyUsage::DecryptSm2), None) => None,
        (_, Some(given)) => Some(given),
        (_, None) => Some("RSAES_OAEP_SHA_256"),
    };
    let decrypted = service.asymmetric_decrypt(&caller, key, algorithm, &ciphertext)?;
    out.write(service.keystore_path(), &decrypted.plaintext)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    /// A token is random base64url: one in 64 begins with `-`, which must not read as an option.
    #[test]
    fn an_import_token_may_begin_with_a_hyphen() {
        let cli = crate::Cli::try_parse_from([
            "keyconsole",
            "key",
            "import",
            "byok",
            "--token",
            "-Ez_QxOVfF34DgoMO_7vn1x_pT0vyx-0ibH-8WGpPyo",
            "--material",
            "m.bin",
        ]);
        assert!(cli.is_ok(), "{cli:?}");
    }
}
