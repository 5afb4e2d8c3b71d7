//! Certificates for the API's HTTPS: a local certificate authority (made once, its key kept sealed
//! in the keystore) and the server certificates it signs. ECDSA P-256 with SHA-256 throughout:
//! every client we serve (OpenSSL in Python and tccli, Node.js, rustls) accepts it, and signing is
//! fast enough to issue a fresh server certificate at every start, so no server key is ever stored.

use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints,
    PKCS_ECDSA_P256_SHA256,
};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

/// The CA is valid this long from its creation; after that `api ca --renew` makes a new one.
pub const CA_VALIDITY_DAYS: i64 = 3650;
/// A server certificate is issued at every start and never stored; 397 days is the longest any
/// browser accepts, so the same certificate would also pass a browser's rules.
pub const SERVER_VALIDITY_DAYS: i64 = 397;

/// A certificate could not be made or read; the message says which part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertError(pub String);

impl std::fmt::Display for CertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> CertError {
    CertError(format!("{what}: {e}"))
}

/// A CA as kept: its certificate (public, handed to clients) and its private key (PKCS#8 PEM,
/// wiped from memory when dropped). The subject is rebuilt from `common_name` to sign with it, so
/// nothing needs to parse the certificate again.
#[derive(Clone)]
pub struct CaMaterial {
    pub common_name: String,
    pub cert_pem: String,
    pub key_pem: Zeroizing<String>,
}

impl std::fmt::Debug for CaMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaMaterial")
            .field("common_name", &self.common_name)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// A server certificate chain (leaf, then the CA) in DER with its private key (PKCS#8 DER).
pub struct ServerIdentity {
    pub chain_der: Vec<Vec<u8>>,
    pub key_der: Zeroizing<Vec<u8>>,
}

/// The DNS names the local CA issues for: `localhost` and the suffixes reserved or customary for
/// private networks, with every name under them (`kms.lan`, `vault.corp.internal`).
pub const PRIVATE_DNS_SUFFIXES: [&str; 5] = ["localhost", "local", "lan", "internal", "home.arpa"];

/// The addresses it issues for: loopback, private, link-local and shared (CGNAT) ranges.
const PRIVATE_NETWORKS: [(&str, u8); 9] = [
    ("127.0.0.0", 8),
    ("10.0.0.0", 8),
    ("172.16.0.0", 12),
    ("192.168.0.0", 16),
    ("169.254.0.0", 16),
    ("100.64.0.0", 10),
    ("::1", 128),
    ("fc00::", 7),
    ("fe80::", 10),
];

/// Whether the local CA may issue a certificate for `name`: a loopback or private address, or a
/// name under a private suffix. Its certificate carries the same list as name constraints, so
/// even its key, were it stolen, could not vouch for a public site to a client that checks them
/// (OpenSSL, rustls and the browsers do).
pub fn is_private_name(name: &str) -> bool {
    if let Ok(address) = name.parse::<std::net::IpAddr>() {
        return PRIVATE_NETWORKS.iter().any(|(network, prefix)| {
            network
                .parse::<std::net::IpAddr>()
                .is_ok_and(|network| in_network(address, network, *prefix))
        });
    }
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    PRIVATE_DNS_SUFFIXES
        .iter()
        .any(|suffix| name == *suffix || name.ends_with(&format!(".{suffix}")))
}

/// Whether `address` is inside the block `network`/`prefix`.
pub fn in_network(address: std::net::IpAddr, network: std::net::IpAddr, prefix: u8) -> bool {
    let (address, network, bits) = match (address, network) {
        (std::net::IpAddr::V4(a), std::net::IpAddr::V4(n)) => {
            (u128::from(a.to_bits()), u128::from(n.to_bits()), 32)
        }
        (std::net::IpAddr::V6(a), std::net::IpAddr::V6(n)) => (a.to_bits(), n.to_bits(), 128),
        _ => return false,
    };
    let shift = bits - u32::from(prefix);
    shift >= bits || (address >> shift) == (network >> shift)
}

fn ca_name_constraints() -> NameConstraints {
    let dns = PRIVATE_DNS_SUFFIXES
        .iter()
        .map(|suffix| GeneralSubtree::DnsName((*suffix).to_owned()));
    let ip = PRIVATE_NETWORKS.iter().filter_map(|(network, prefix)| {
        let network = network.parse().ok()?;
        Some(GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(
            network, *prefix,
        )))
    });
    NameConstraints {
        permitted_subtrees: dns.chain(ip).collect(),
        excluded_subtrees: Vec::new(),
    }
}

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params
        .distinguished_name
        .push(DnType::OrganizationName, "keyconsole");
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.name_constraints = Some(ca_name_constraints());
    params
}

/// Makes a new CA named `common_name` (unique per keystore, so two keystores' CAs never clash).
pub fn new_ca(common_name: &str) -> Result<CaMaterial, CertError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
        .map_err(|e| failed("Generating the CA key failed", e))?;
    let mut params = ca_params(common_name);
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(CA_VALIDITY_DAYS);
    let cert = params
        .self_signed(&key)
        .map_err(|e| failed("Signing the CA certificate failed", e))?;
    Ok(CaMaterial {
        common_name: common_name.to_owned(),
        cert_pem: cert.pem(),
        key_pem: Zeroizing::new(key.serialize_pem()),
    })
}

/// Issues a server certificate for `names` (IP addresses or DNS names) signed by `ca`, with a
/// fresh key that exists only in the returned value.
pub fn issue_server(ca: &CaMaterial, names: &[String]) -> Result<ServerIdentity, CertError> {
    if let Some(bad) = names.iter().find(|n| !is_host_name(n)) {
        return Err(CertError(format!(
            "{bad:?} is neither an IP address nor a DNS name"
        )));
    }
    if let Some(public) = names.iter().find(|n| !is_private_name(n)) {
        return Err(CertError(format!(
            "{public:?} is not a private name; the local CA issues only for loopback and private addresses and for names under {}",
            PRIVATE_DNS_SUFFIXES.join(", ")
        )));
    }
    let ca_key =
        KeyPair::from_pem(&ca.key_pem).map_err(|e| failed("The CA key cannot be read", e))?;
    let issuer = Issuer::new(ca_params(&ca.common_name), ca_key);
    let mut params = CertificateParams::new(names.to_vec())
        .map_err(|e| failed("A server name is not valid", e))?;
    params.distinguished_name.push(
        DnType::CommonName,
        names.first().map_or("keyconsole", |n| n),
    );
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(SERVER_VALIDITY_DAYS);
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
        .map_err(|e| failed("Generating the server key failed", e))?;
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(|e| failed("Signing the server certificate failed", e))?;
    let ca_der = pem_body(&ca.cert_pem)
        .ok_or_else(|| CertError("The CA certificate is not a PEM certificate.".to_owned()))?;
    Ok(ServerIdentity {
        chain_der: vec![cert.der().to_vec(), ca_der],
        key_der: Zeroizing::new(key.serialize_der()),
    })
}

/// An IP address, or a DNS name as TLS clients check them (letters, digits, hyphens, dots).
pub fn is_host_name(name: &str) -> bool {
    name.parse::<std::net::IpAddr>().is_ok() || rustls_pki_types::DnsName::try_from(name).is_ok()
}

/// The DER inside the first `-----BEGIN CERTIFICATE-----` block of `pem`.
pub fn pem_body(pem: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let start = pem.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = start + pem[start..].find("-----END CERTIFICATE-----")?;
    let text: String = pem[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_private_names_are_issued_for() {
        for private in [
            "127.0.0.1",
            "127.9.9.9",
            "::1",
            "localhost",
            "kms.lan",
            "a.b.internal",
            "x.local",
            "nas.home.arpa",
            "10.1.2.3",
            "172.31.255.1",
            "192.168.1.5",
            "fd00::5",
            "fe80::1",
            "100.100.1.1",
        ] {
            assert!(is_private_name(private), "{private}");
        }
        for public in [
            "8.8.8.8",
            "172.32.0.1",
            "192.169.0.1",
            "2001:db8::1",
            "example.com",
            "lan.example.com",
            "evil-lan",
            "notlocalhost",
        ] {
            assert!(!is_private_name(public), "{public}");
        }
        let ca = new_ca("keyconsole local CA constraints").unwrap();
        let e = issue_server(&ca, &["example.com".to_owned()])
            .err()
            .unwrap();
        assert!(e.0.contains("not a private name"), "{e}");
    }

    #[test]
    fn a_server_certificate_chains_to_its_ca() {
        let ca = new_ca("keyconsole local CA test").expect("CA");
        assert!(ca.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(ca.key_pem.contains("PRIVATE KEY"));
        assert!(!format!("{ca:?}").contains(ca.key_pem.as_str()));
        let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        let server = issue_server(&ca, &names).expect("server certificate");
        assert_eq!(server.chain_der.len(), 2);
        assert_eq!(Some(server.chain_der[1].clone()), pem_body(&ca.cert_pem));
        assert!(issue_server(&ca, &["not a name!".to_owned()]).is_err());
        let broken = CaMaterial {
            key_pem: Zeroizing::new("garbage".to_owned()),
            ..ca
        };
        assert!(issue_server(&broken, &names).is_err());
    }
}
