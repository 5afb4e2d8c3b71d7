//! The local certificate authority behind `serve --tls`: made once per keystore, its private key
//! kept in the encrypted keystore body (so it is as safe as the keys and never lies on disk in the
//! clear), its certificate written beside the keystore for clients to trust. Server certificates
//! are issued from it at every start and live only in memory.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::Kms;
use super::error::{ErrorCode, KmsError, Result};
use keyconsole_base::crypto::certs::{self, CaMaterial, CertError, ServerIdentity};
use keyconsole_base::util::atomic_file;

/// The CA as the keystore body keeps it (schema 3).
#[derive(Clone, Serialize, Deserialize)]
pub struct LocalCaRecord {
    pub common_name: String,
    pub cert_pem: String,
    pub key_pem: Zeroizing<String>,
    /// Unix seconds.
    pub created: i64,
}

impl std::fmt::Debug for LocalCaRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCaRecord")
            .field("common_name", &self.common_name)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

impl LocalCaRecord {
    fn material(&self) -> CaMaterial {
        CaMaterial {
            common_name: self.common_name.clone(),
            cert_pem: self.cert_pem.clone(),
            key_pem: self.key_pem.clone(),
        }
    }
}

/// What clients need: the CA certificate and where it is on disk.
#[derive(Debug, Clone)]
pub struct LocalCa {
    pub path: PathBuf,
    pub cert_pem: String,
    pub created: i64,
}

/// Where the CA certificate of `keystore` is written: beside it, named after it.
pub fn local_ca_path(keystore: &Path) -> PathBuf {
    let mut name = keystore.file_name().unwrap_or_default().to_os_string();
    name.push(".ca.pem");
    keystore.with_file_name(name)
}

/// The names a server certificate from the local CA covers unless told more.
pub const LOOPBACK_NAMES: [&str; 3] = ["127.0.0.1", "::1", "localhost"];

/// The names of a server certificate for a server listening on `listen`: the loopback names, the
/// listen address when it is a specific one beyond loopback, then `extra`, without repeats.
pub fn server_names(listen: IpAddr, extra: &[String]) -> Vec<String> {
    let mut names: Vec<String> = LOOPBACK_NAMES.iter().map(|n| (*n).to_owned()).collect();
    if !listen.is_loopback() && !listen.is_unspecified() {
        names.push(listen.to_string());
    }
    for name in extra {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

fn cert_error(e: CertError) -> KmsError {
    KmsError::new(ErrorCode::InternalError, e.0)
}

impl Kms {
    /// The local CA, made and saved on first use; its certificate file is (re)written beside the
    /// keystore whenever it is missing or differs, so deleting the file is harmless.
    pub fn local_ca(&self) -> Result<LocalCa> {
        let record = self.local_ca_record()?;
        self.publish_ca_file(&record)
    }

    /// The CA as kept, made and saved on first use.
    fn local_ca_record(&self) -> Result<LocalCaRecord> {
        if let Some(record) = &self.ring().local_ca {
            return Ok(record.clone());
        }
        self.transact(|ring, now| {
            // Another process may have made one since we last looked.
            if let Some(existing) = &ring.local_ca {
                return Ok(existing.clone());
            }
            let record = new_record(now)?;
            ring.local_ca = Some(record.clone());
            Ok(record)
        })
    }

    /// Replaces the local CA with a new one (clients must trust the new certificate; servers
    /// started before keep serving with the old one until restarted).
    pub fn renew_local_ca(&self) -> Result<LocalCa> {
        let record = self.transact(|ring, now| {
            let record = new_record(now)?;
            ring.local_ca = Some(record.clone());
            Ok(record)
        })?;
        self.publish_ca_file(&record)
    }

    /// A server certificate for `names` (IP addresses or DNS names) from the local CA, with a key
    /// that exists only in the returned value.
    pub fn issue_server_identity(&self, names: &[String]) -> Result<ServerIdentity> {
        if let Some(bad) = names.iter().find(|n| !certs::is_host_name(n)) {
            return Err(KmsError::new(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!(
                    "errors.bad_is_neither_an_ip_address",
                    bad = format!("{:?}", bad)
                ),
            ));
        }
        let record = self.local_ca_record()?;
        // Clients trust the file, so it is (re)written before a certificate is handed out.
        self.publish_ca_file(&record)?;
        let material = record.material();
        certs::issue_server(&material, names).map_err(cert_error)
    }

    fn publish_ca_file(&self, record: &LocalCaRecord) -> Result<LocalCa> {
        let path = local_ca_path(self.path());
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() != Some(record.cert_pem.as_str()) {
            atomic_file::replace_file(&path, record.cert_pem.as_bytes())
                .and_then(|()| readable_by_all(&path))
                .map_err(|e| {
                    KmsError::new(
                        ErrorCode::FileIo,
                        keyconsole_base::text!(
                            "errors.cannot_write_the_ca_certificate_path",
                            path = path.display(),
                            e = e
                        ),
                    )
                })?;
        }
        Ok(LocalCa {
            path,
            cert_pem: record.cert_pem.clone(),
            created: record.created,
        })
    }
}

/// The certificate is public: clients running as other users (a service account) may read it.
fn readable_by_all(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))?;
    }
    Ok(())
}

fn new_record(now: i64) -> Result<LocalCaRecord> {
    // A random suffix tells the CAs of two keystores apart in a trust store.
    let mut tag = [0u8; 4];
    keyconsole_base::crypto::fill_random(&mut tag);
    let common_name = format!("keyconsole local CA {}", keyconsole_base::util::hex(&tag));
    let material = certs::new_ca(&common_name).map_err(cert_error)?;
    Ok(LocalCaRecord {
        common_name,
        cert_pem: material.cert_pem,
        key_pem: material.key_pem,
        created: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_add_a_specific_listen_address_and_extras_once() {
        let loopback = server_names("127.0.0.1".parse().unwrap(), &[]);
        assert_eq!(loopback, ["127.0.0.1", "::1", "localhost"]);
        assert_eq!(server_names("0.0.0.0".parse().unwrap(), &[]), loopback);
        let lan = server_names(
            "192.168.1.5".parse().unwrap(),
            &["kms.lan".to_owned(), "localhost".to_owned()],
        );
        assert_eq!(
            lan,
            ["127.0.0.1", "::1", "localhost", "192.168.1.5", "kms.lan"]
        );
    }
}
