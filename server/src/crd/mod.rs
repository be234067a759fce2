//! CustomResourceDefinitions as kube-apiserver 1.32 treats them, past
//! serving the resource (registry.rs, lifecycle.rs):
//! - a CRD's versions must carry structural schemas (`structural`);
//! - a custom resource is pruned of fields its schema does not specify,
//!   defaulted from the schema and validated against it (`prune`,
//!   `validate`), with 422 causes worded as the real server's (`causes`);
//! - stored objects show the defaults of the CRD as it is now, as the real
//!   server defaults what it reads from etcd (`default_stored`).
//!
//! Built-in kinds' validation lives elsewhere (validation.rs); the CRD's
//! schema in the OpenAPI documents is openapi/custom.rs.

mod causes;
mod formats;
mod prune;
mod structural;
mod validate;

use crate::registry;
use crate::resources::ResourceInfo;
use crate::store::{ApiError, Store};
use serde_json::Value;

fn is_crd(res: &ResourceInfo) -> bool {
    res.group == "apiextensions.k8s.io" && res.plural == "customresourcedefinitions"
}

/// The openAPIV3Schema of a custom resource's version, if it is one.
pub(crate) fn schema_of(res: &ResourceInfo) -> Option<Value> {
    registry::crd_details()
        .into_iter()
        .find(|c| {
            c.info.group == res.group
                && c.info.version == res.version
                && c.info.plural == res.plural
        })
        .map(|c| c.schema)
        .filter(Value::is_object)
}

/// What a write of a CRD or a custom resource must pass before it is
/// stored: a CRD's schemas are structural; a custom resource is pruned,
/// defaulted and valid. Returns the paths pruned (for fieldValidation).
pub(crate) fn admit(res: &ResourceInfo, obj: &mut Value) -> Result<Vec<String>, ApiError> {
    let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
    if is_crd(res) {
        let causes = structural::check(obj);
        if !causes.is_empty() {
            return Err(causes::invalid(res, &name, &causes));
        }
        return Ok(vec![]);
    }
    let Some(schema) = schema_of(res) else {
        return Ok(vec![]);
    };
    let dropped = prune::prune(obj, &schema);
    prune::apply_defaults(obj, &schema);
    let causes = validate::validate(obj, &schema);
    if !causes.is_empty() {
        return Err(causes::invalid(res, &name, &causes));
    }
    Ok(dropped)
}

/// `fieldValidation=Strict` on a custom resource's create or update: a
/// field its schema would prune is a 400, worded as the real server's
/// decoder words it. (Warn and Ignore store the pruned object.)
pub(crate) fn strict_fields(
    res: &ResourceInfo,
    body: &Value,
    query: &std::collections::HashMap<String, String>,
) -> Result<(), ApiError> {
    if query.get("fieldValidation").map(String::as_str) != Some("Strict") {
        return Ok(());
    }
    let Some(schema) = schema_of(res) else {
        return Ok(());
    };
    let dropped = prune::prune(&mut body.clone(), &schema);
    if dropped.is_empty() {
        return Ok(());
    }
    let fields: Vec<String> = dropped
        .iter()
        .map(|f| format!("unknown field {}", causes::go_quote(f)))
        .collect();
    Err(ApiError::bad_request(format!(
        "{kind} in version {version:?} cannot be handled as a {kind}: strict decoding error: {}",
        fields.join(", "),
        kind = res.kind,
        version = res.version,
    )))
}

/// After a CRD is stored: its objects show the defaults of its schemas now,
/// as the real server fills them in when it reads from etcd (no event, no
/// new resourceVersion).
pub(crate) fn default_stored(st: &mut Store, crd: &Value) {
    let group = crd["spec"]["group"].as_str().unwrap_or("");
    let plural = crd["spec"]["names"]["plural"].as_str().unwrap_or("");
    let Some(storage) = crd["spec"]["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["storage"] == Value::Bool(true))
    else {
        return;
    };
    let schema = &storage["schema"]["openAPIV3Schema"];
    if !schema.is_object() {
        return;
    }
    for ((g, p, _, _), obj) in st.objects.iter_mut() {
        if g == group && p == plural {
            prune::apply_defaults(obj, schema);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_crd_with_a_non_structural_schema_is_invalid() {
        let crds =
            crate::resources::find("apiextensions.k8s.io", "v1", "customresourcedefinitions")
                .unwrap();
        let mut crd = json!({"metadata": {"name": "widgets.example.com"}, "spec": {"versions": [
            {"name": "v1", "schema": {"openAPIV3Schema": {"type": "object",
                "properties": {"spec": {"properties": {}}}}}}]}});
        let e = admit(crds, &mut crd).unwrap_err();
        assert_eq!(422, e.code);
        assert_eq!("CustomResourceDefinition.apiextensions.k8s.io \"widgets.example.com\" is invalid: spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields", e.message);
        assert_eq!(
            json!({"name": "widgets.example.com", "group": "apiextensions.k8s.io",
                "kind": "CustomResourceDefinition", "causes": [{"reason": "FieldValueRequired",
                "message": "Required value: must not be empty for specified object fields",
                "field": "spec.versions[0].schema.openAPIV3Schema.properties[spec].type"}]}),
            e.details
        );
    }
}
