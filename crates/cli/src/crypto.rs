//! `encrypt`, `decrypt`, `reencrypt`, `datakey`, `random`.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::Args;
use zeroize::Zeroizing;

use super::Context;
use super::output::{BLOB_INPUT_MAX_BYTES, OutputFile, read_input, read_text, write_stdout};
use keyconsole_kms::{CanonicalContext, DataKeySpec, PLAINTEXT_MAX_BYTES, Result};

#[derive(Debug, Args)]
pub struct EncryptArgs {
    /// KeyId or alias
    #[arg(long)]
    key: String,
    /// Encryption context, a JSON object of strings; needed again, identically, to decrypt
    #[arg(long, value_name = "JSON")]
    context: Option<String>,
    /// Read the plaintext from FILE [default: standard input]
    #[arg(long = "in", value_name = "FILE")]
    input: Option<PathBuf>,
    #[command(flatten)]
    out: OutputFile,
}

#[derive(Debug, Args)]
pub struct DecryptArgs {
    #[arg(long, value_name = "JSON", conflicts_with = "key")]
    context: Option<String>,
    /// Decrypt what was encrypted to this key pair's public key (raw ciphertext bytes, as
    /// `openssl pkeyutl -encrypt` writes them) instead of a CiphertextBlob
    #[arg(long)]
    key: Option<String>,
    /// With --key and an RSA key: RSAES_OAEP_SHA_256 (default), RSAES_OAEP_SHA_1 or RSAES_PKCS1_V1_5
    #[arg(long, requires = "key")]
    algorithm: Option<String>,
    /// Give the plaintext only encrypted to this PEM public key (RSA-2048 or SM2): base64 of the
    /// ciphertext is written, never the plaintext
    #[arg(long, value_name = "PEM_FILE", conflicts_with = "key")]
    encryption_public_key: Option<PathBuf>,
    /// With --encryption-public-key: SM2 (C1C3C2, the default), SM2_C1C3C2_ASN1,
    /// RSAES_PKCS1_V1_5, RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256
    #[arg(long, requires = "encryption_public_key")]
    encryption_algorithm: Option<String>,
    /// Read the CiphertextBlob from FILE [default: standard input]
    #[arg(long = "in", value_name = "FILE")]
    input: Option<PathBuf>,
    #[command(flatten)]
    out: OutputFile,
}

#[derive(Debug, Args)]
pub struct ReencryptArgs {
    /// Encrypt under this key [default: the key the ciphertext names]
    #[arg(long)]
    key: Option<String>,
    /// The context the ciphertext was made with
    #[arg(long, value_name = "JSON")]
    context: Option<String>,
    /// The context for the new ciphertext [default: the same as --context]
    #[arg(long, value_name = "JSON")]
    new_context: Option<String>,
    #[arg(long = "in", value_name = "FILE")]
    input: Option<PathBuf>,
    #[command(flatten)]
    out: OutputFile,
}

#[derive(Debug, Args)]
pub struct DatakeyArgs {
    #[arg(long)]
    key: String,
    /// Key size [default: AES_256]
    #[arg(long, value_parser = ["AES_256", "AES_128"], conflicts_with = "bytes")]
    spec: Option<String>,
    /// A data key of N bytes (1-1024) instead of a KeySpec
    #[arg(long, value_name = "N")]
    bytes: Option<u32>,
    #[arg(long, value_name = "JSON")]
    context: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct RandomArgs {
    /// How many bytes (1-1024)
    #[arg(long, value_name = "N")]
    bytes: u32,
}

pub fn encrypt(context: &Context, args: EncryptArgs) -> Result<()> {
    let encryption_context = CanonicalContext::parse(args.context.as_deref())?;
    // One byte over the limit is enough for the engine to refuse it with its code.
    let plaintext = read_input(args.input.as_deref(), PLAINTEXT_MAX_BYTES + 1)?;
    let service = context.service()?;
    args.out.check(service.keystore_path())?;
    let encrypted = service.encrypt(
        &context.caller(),
        &args.key,
        &plaintext,
        &encryption_context,
    )?;
    write_blob(
        service.keystore_path(),
        &args.out,
        &encrypted.ciphertext_blob,
    )
}

/// A blob goes to a file as it is, and to a terminal or pipe with a newline after it.
fn write_blob(keystore: Option<&Path>, out: &OutputFile, blob: &str) -> Result<()> {
    if out.path.is_some() {
        out.write(keystore, blob.as_bytes())
    } else {
        write_stdout(format!("{blob}\n").as_bytes())
    }
}

pub fn decrypt(context: &Context, args: DecryptArgs) -> Result<()> {
    if let Some(key) = &args.key {
        return super::pair::decrypt(
            context,
            key,
            args.algorithm.as_deref(),
            args.input.as_deref(),
            &args.out,
        );
    }
    let encryption_context = CanonicalContext::parse(args.context.as_deref())?;
    let blob = read_text(args.input.as_deref(), BLOB_INPUT_MAX_BYTES)?;
    let service = context.service()?;
    if let Some(pem_file) = &args.encryption_public_key {
        let pem = read_text(Some(pem_file), 16 * 1024)?;
        let (_, sealed) = service.decrypt_to_public_key(
            &context.caller(),
            &blob,
            &encryption_context,
            &pem,
            args.encryption_algorithm.as_deref(),
        )?;
        return args.out.write(
            service.keystore_path(),
            format!("{}\n", STANDARD.encode(sealed)).as_bytes(),
        );
    }
    let decrypted = service.decrypt(&context.caller(), &blob, &encryption_context)?;
    args.out
        .write(service.keystore_path(), &decrypted.plaintext)
}

pub fn reencrypt(context: &Context, args: ReencryptArgs) -> Result<()> {
    let source_context = CanonicalContext::parse(args.context.as_deref())?;
    let destination_context = match &args.new_context {
        Some(json) => CanonicalContext::parse(Some(json))?,
        None => source_context.clone(),
    };
    let blob = read_text(args.input.as_deref(), BLOB_INPUT_MAX_BYTES)?;
    let service = context.service()?;
    args.out.check(service.keystore_path())?;
    let result = service.re_encrypt(
        &context.caller(),
        &blob,
        args.key.as_deref(),
        &source_context,
        &destination_context,
    )?;
    if !result.re_encrypted {
        eprintln!(
            "note: the ciphertext was already under the newest version of its key; it was re-encrypted with a fresh nonce"
        );
    }
    write_blob(service.keystore_path(), &args.out, &result.ciphertext_blob)
}

pub fn datakey(context: &Context, args: DatakeyArgs) -> Result<()> {
    let encryption_context = CanonicalContext::parse(args.context.as_deref())?;
    let spec = match (args.bytes, args.spec.as_deref()) {
        (Some(n), _) => DataKeySpec::Bytes(n),
        (None, Some(name)) => DataKeySpec::from_name(name)?,
        (None, None) => DataKeySpec::Aes256,
    };
    let service = context.service()?;
    let data_key =
        service.generate_data_key(&context.caller(), &args.key, spec, &encryption_context)?;
    let plaintext = Zeroizing::new(STANDARD.encode(&data_key.plaintext));
    let text = if args.json {
        Zeroizing::new(format!(
            "{{\n  \"KeyId\": \"{}\",\n  \"Plaintext\": \"{}\",\n  \"CiphertextBlob\": \"{}\"\n}}\n",
            data_key.key_id, *plaintext, data_key.ciphertext_blob
        ))
    } else {
        Zeroizing::new(format!(
            "KeyId           {}\nPlaintext       {}\nCiphertextBlob  {}\n",
            data_key.key_id, *plaintext, data_key.ciphertext_blob
        ))
    };
    write_stdout(text.as_bytes())
}

pub fn random(context: &Context, args: RandomArgs) -> Result<()> {
    // GenerateRandom needs no key, but it is a service call like any other, so the keystore is
    // opened (or the server asked).
    let service = context.service()?;
    let bytes = service.generate_random(&context.caller(), args.bytes)?;
    let text = Zeroizing::new(format!("{}\n", STANDARD.encode(&bytes)));
    write_stdout(text.as_bytes())
}
