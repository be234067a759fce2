//! Certificates generated at start: a CA, the server certificate (127.0.0.1
//! and localhost) and a client certificate for the `admin-cert` user. They
//! can be kept in an identity file so a restarted server keeps its CA.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;

pub struct Pki {
    pub ca_pem: String,
    pub server_cert_pem: String,
    pub server_key_pem: String,
    pub server_config: Arc<rustls::ServerConfig>,
    pub client_cert_pem: String,
    pub client_key_pem: String,
}

fn name(cn: &str, org: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    if let Some(o) = org {
        dn.push(DnType::OrganizationName, o);
    }
    dn
}

pub fn generate() -> Result<Pki, String> {
    let e = |e: rcgen::Error| e.to_string();
    let ca_key = KeyPair::generate().map_err(e)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
    ca_params.distinguished_name = name("kube-testserver-ca", None);
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(e)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().map_err(e)?;
    let mut sp = CertificateParams::new(vec!["localhost".to_string()]).map_err(e)?;
    sp.subject_alt_names
        .push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
    sp.distinguished_name = name("kube-apiserver", None);
    let server_cert = sp.signed_by(&server_key, &issuer).map_err(e)?;

    let client_key = KeyPair::generate().map_err(e)?;
    let mut cp = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
    cp.distinguished_name = name("admin-cert", Some("system:masters"));
    let client_cert = cp.signed_by(&client_key, &issuer).map_err(e)?;

    let server_cert_pem = server_cert.pem();
    let server_key_pem = server_key.serialize_pem();
    Ok(Pki {
        server_config: server_config(&ca_cert.pem(), &server_cert_pem, &server_key_pem)?,
        ca_pem: ca_cert.pem(),
        server_cert_pem,
        server_key_pem,
        client_cert_pem: client_cert.pem(),
        client_key_pem: client_key.serialize_pem(),
    })
}

/// The PKI from PEM texts kept by an earlier run.
pub fn from_pems(
    ca_pem: String,
    server_cert_pem: String,
    server_key_pem: String,
    client_cert_pem: String,
    client_key_pem: String,
) -> Result<Pki, String> {
    Ok(Pki {
        server_config: server_config(&ca_pem, &server_cert_pem, &server_key_pem)?,
        ca_pem,
        server_cert_pem,
        server_key_pem,
        client_cert_pem,
        client_key_pem,
    })
}

fn server_config(
    ca_pem: &str,
    server_cert_pem: &str,
    server_key_pem: &str,
) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    let ca = CertificateDer::from_pem_slice(ca_pem.as_bytes()).map_err(|e| format!("CA: {e}"))?;
    let cert = CertificateDer::from_pem_slice(server_cert_pem.as_bytes())
        .map_err(|e| format!("server certificate: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(server_key_pem.as_bytes())
        .map_err(|e| format!("server key: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).map_err(|e| e.to_string())?;
    // Client certificates are optional: token and basic users connect without one.
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .allow_unauthenticated()
    .build()
    .map_err(|e| e.to_string())?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![cert], key)
        .map_err(|e| e.to_string())?;
    // As kube-apiserver: HTTP/2 for clients that offer it (kubectl, client-go,
    // kube-rs multiplex their calls on one connection), HTTP/1.1 otherwise and
    // for upgrades (exec, attach, port-forward ask for http/1.1 only).
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
