//! Who the server is and who the client is: the PKI (`tls`), the users'
//! credentials (`identity`) and the authentication/authorization reviews and
//! RBAC checks (`authz`).

pub(crate) mod authz;
pub(crate) mod identity;
pub(crate) mod tls;
