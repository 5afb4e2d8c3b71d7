//! HTTPS for the API: a rustls server configuration from a certificate the local CA issued, or
//! from the user's own PEM files. HTTP/1.1 only (as the plain server), TLS 1.2 and 1.3 with
//! rustls's safe defaults (AES-GCM and ChaCha20-Poly1305, forward secrecy only).

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use zeroize::Zeroizing;

use keyconsole_base::crypto::certs::ServerIdentity;
use keyconsole_base::util::i18n::Text;
use keyconsole_kms::{ErrorCode, KmsError, Result};

/// Certificate and key files larger than this are refused before they are read whole.
const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// A TLS server configuration, ready to share between connections.
pub type TlsConfig = Arc<rustls::ServerConfig>;

/// From a certificate chain and key in memory (the local CA's, issued at start).
pub fn from_identity(identity: &ServerIdentity) -> Result<TlsConfig> {
    let chain = identity
        .chain_der
        .iter()
        .map(|der| CertificateDer::from(der.clone()))
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_der.to_vec()));
    build(chain, key, "the local CA's server certificate")
}

/// From PEM files: `cert` holds the server certificate first, then any intermediates; `key` a
/// PKCS#8, PKCS#1 (RSA) or SEC1 (EC) private key.
pub fn from_pem_files(cert: &Path, key: &Path) -> Result<TlsConfig> {
    let cert_pem = read_pem(cert)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| {
            unusable(
                cert,
                keyconsole_base::text!("errors.it_is_not_pem_certificates_e", e = e),
            )
        })?;
    if chain.is_empty() {
        return Err(unusable(
            cert,
            keyconsole_base::text!("errors.it_holds_no_certificate_block"),
        ));
    }
    let key_pem = read_pem(key)?;
    if contains(&key_pem, b"-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        return Err(unusable(
            key,
            keyconsole_base::text!("errors.it_holds_an_encrypted_private_key"),
        ));
    }
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        unusable(
            key,
            keyconsole_base::text!("errors.it_holds_no_private_key_e", e = e),
        )
    })?;
    build(chain, private, &cert.display().to_string())
}

fn build(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    what: &str,
) -> Result<TlsConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| {
            KmsError::new(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!("errors.cannot_serve_https_with_what_e", what = what, e = e),
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn read_pem(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    // Only a regular file: opening a FIFO would wait for a writer forever, a device never ends.
    let cannot_read = |e: std::io::Error| {
        KmsError::new(
            ErrorCode::FileIo,
            keyconsole_base::text!("errors.cannot_read_path_e", path = path.display(), e = e),
        )
    };
    if !std::fs::metadata(path).map_err(cannot_read)?.is_file() {
        return Err(unusable(
            path,
            keyconsole_base::text!("errors.it_is_not_a_regular_file"),
        ));
    }
    let mut bytes = Zeroizing::new(Vec::new());
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_PEM_BYTES + 1).read_to_end(&mut bytes))
        .map_err(cannot_read)?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(unusable(
            path,
            keyconsole_base::text!("errors.it_is_over_1_mib"),
        ));
    }
    Ok(bytes)
}

fn unusable(path: &Path, why: Text) -> KmsError {
    KmsError::new(
        ErrorCode::InvalidParameterValue,
        keyconsole_base::text!(
            "errors.path_cannot_be_used_for_https",
            path = path.display(),
            why = why
        ),
    )
}
