//! Who the server is and who may talk to it: its PKI and its users'
//! credentials. `--identity FILE` keeps them across restarts (a test that
//! restarts the server keeps trusting it); the file is created mode 0600.

use crate::tls::{self, Pki};
use serde_json::{json, Value};
use std::io::{Read, Write};

/// The credentials the server accepts: two bearer tokens (admin, viewer)
/// and one basic-auth user (admin).
pub struct Users {
    pub admin_token: String,
    pub viewer_token: String,
    pub basic_user: String,
    pub basic_password: String,
}

pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    let ok = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf));
    if ok.is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        buf = t.to_le_bytes().iter().cycle().take(n).cloned().collect();
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new CA, certificates and credentials.
pub fn generate() -> Result<(Pki, Users), String> {
    let users = Users {
        admin_token: random_hex(16),
        viewer_token: random_hex(16),
        basic_user: "admin".into(),
        basic_password: random_hex(12),
    };
    Ok((tls::generate()?, users))
}

/// The identity kept in `path`, or a new one written there.
pub fn load_or_create(path: &str) -> Result<(Pki, Users), String> {
    match std::fs::read(path) {
        Ok(bytes) => parse(&bytes).map_err(|e| format!("--identity {path}: {e}")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let (pki, users) = generate()?;
            save(path, &pki, &users).map_err(|e| format!("--identity {path}: {e}"))?;
            Ok((pki, users))
        }
        Err(e) => Err(format!("--identity {path}: {e}")),
    }
}

fn save(path: &str, pki: &Pki, users: &Users) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let doc = json!({
        "ca": pki.ca_pem, "serverCert": pki.server_cert_pem, "serverKey": pki.server_key_pem,
        "clientCert": pki.client_cert_pem, "clientKey": pki.client_key_pem,
        "adminToken": users.admin_token, "viewerToken": users.viewer_token,
        "basicUser": users.basic_user, "basicPassword": users.basic_password,
    });
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(doc.to_string().as_bytes())
}

fn parse(bytes: &[u8]) -> Result<(Pki, Users), String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let field = |k: &str| {
        doc[k]
            .as_str()
            .map(String::from)
            .ok_or_else(|| format!("missing {k}"))
    };
    let pki = tls::from_pems(
        field("ca")?,
        field("serverCert")?,
        field("serverKey")?,
        field("clientCert")?,
        field("clientKey")?,
    )?;
    let users = Users {
        admin_token: field("adminToken")?,
        viewer_token: field("viewerToken")?,
        basic_user: field("basicUser")?,
        basic_password: field("basicPassword")?,
    };
    Ok((pki, users))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_identity_loads_back_the_same() {
        let dir = std::env::temp_dir().join(format!("kts-identity-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("identity.json");
        let path = path.to_str().unwrap();
        let (pki, users) = load_or_create(path).unwrap();
        let (pki2, users2) = load_or_create(path).unwrap();
        assert_eq!(pki.ca_pem, pki2.ca_pem);
        assert_eq!(pki.client_key_pem, pki2.client_key_pem);
        assert_eq!(users.admin_token, users2.admin_token);
        assert_eq!(users.basic_password, users2.basic_password);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(0o600, mode & 0o777);
        std::fs::write(path, b"{}").unwrap();
        let broken = load_or_create(path).err().unwrap_or_default();
        assert!(broken.contains("missing ca"), "{broken}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
