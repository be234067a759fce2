#!/usr/bin/env bash
# kubectl as referee of CustomResourceDefinitions on kube-testserver: a CRD
# with a structural schema is served and explained, a non-structural one is
# refused, custom resources are validated (kubectl's own check against
# /openapi/v2, and the server's 422 with --validate=false), pruned and
# defaulted, and the scale and status subresources work as on a real server.
# Prints "ok NAME" / "FAIL NAME" per check and "crd-kubectl: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
LABEL=crd-kubectl FAIL_END=tail FAIL_LINES=20 KUBECTL_TIMEOUT=30
. "$ROOT/server/tests/referees/harness.sh"

start_server --controllers none
export KUBECONFIG=$TMP/kubeconfig
widget() { printf 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: %s}\nspec: %s\n' "$1" "$2"; }
# The checks below run pipelines in bash -c: they see k, widget and TMP.
export TMP KUBECTL_TIMEOUT
export -f k widget

cat >"$TMP/crd.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.size, statusReplicasPath: .status.size}
    schema:
      openAPIV3Schema:
        type: object
        description: A Widget is a thing the referee makes.
        properties:
          spec:
            type: object
            description: What the widget should be.
            required: [color]
            properties:
              size:
                type: integer
                description: How many widgets to run.
                minimum: 0
                maximum: 10
                default: 1
              color:
                type: string
                enum: [red, blue]
              mode:
                type: string
                default: fast
              code:
                type: string
                pattern: '^[a-z]+$'
                maxLength: 8
              tags:
                type: array
                items: {type: string}
                x-kubernetes-list-type: set
              extra:
                type: object
                x-kubernetes-preserve-unknown-fields: true
          status:
            type: object
            properties:
              size: {type: integer}
              phase: {type: string}
YAML
check "a CRD with a structural schema is created and established" \
  bash -c "k apply -f '$TMP/crd.yaml' && k wait --for condition=established --timeout=15s crd/widgets.example.com"

cat >"$TMP/bad-crd.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            properties:
              size: {type: integer}
YAML
check "a CRD whose schema is not structural is refused with the real cause" \
  fails_with "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields" \
  k create -f "$TMP/bad-crd.yaml"

check "kubectl explain shows the CRD's schema" \
  bash -c "out=\$(k explain widgets.spec) && echo \"\$out\" &&
    grep -q 'What the widget should be' <<<\"\$out\" && grep -q 'size' <<<\"\$out\" && grep -q 'color.*-required-' <<<\"\$out\""
check "kubectl explain a field of a custom kind" \
  bash -c "k explain widget.spec.size | grep -q 'How many widgets to run'"

check "a valid custom resource is created" bash -c "widget w1 '{color: red}' | k create -f -"
check "schema defaults are applied on create" \
  same "$(k get widget w1 -o jsonpath='{.spec.size} {.spec.mode}')" "1 fast"
check "kubectl's own validation refuses a wrong type" \
  fails_with 'ValidationError(Widget.spec.size): invalid type for com.example.v1.Widget.spec.size: got "string", expected "integer"' bash -c "widget bad '{color: red, size: many}' | k create -f -"
check "the server refuses a wrong type with the real message (--validate=false)" \
  fails_with 'The Widget "bad" is invalid: spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"' \
  bash -c "widget bad '{color: red, size: many}' | k create --validate=false -f -"
check "an enum value outside the list: 422 Unsupported value" \
  fails_with 'spec.color: Unsupported value: "green": supported values: "red", "blue"' \
  bash -c "widget bad '{color: green}' | k create --validate=false -f -"
check "a missing required field: 422 Required value" \
  fails_with 'spec.color: Required value' \
  bash -c "widget bad '{size: 2}' | k create --validate=false -f -"
# kubectl lists the causes of one 422 as bullets.
several_causes() {
  fails_with '* spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10' \
    bash -c "widget bad '{color: red, size: 11, code: ABC}' | k create --validate=false -f -" &&
    grep -qF "* spec.code: Invalid value: \"ABC\": spec.code in body should match '^[a-z]+\$'" "$OUT"
}
check "several causes in one answer" several_causes
check "duplicates in a list-type set are refused" \
  fails_with 'spec.tags[1]: Duplicate value: "a"' \
  bash -c "widget bad '{color: red, tags: [a, a]}' | k create --validate=false -f -"
check "kubectl's own validation refuses an unknown field" \
  fails_with 'ValidationError(Widget.spec): unknown field "bogus" in com.example.v1.Widget.spec' bash -c "widget w2 '{color: blue, bogus: 1}' | k create -f -"
check "unknown fields are pruned (--validate=false), preserved ones kept" \
  bash -c "widget w2 '{color: blue, bogus: 1, extra: {any: [1]}}' | k create --validate=false -f - &&
    out=\$(k get widget w2 -o json) && echo \"\$out\" && ! grep -q bogus <<<\"\$out\" && grep -q '\"any\"' <<<\"\$out\""
check "kubectl get lists custom resources by short name" \
  same "$(k get wd -o name | sort | tr '\n' ' ')" "widget.example.com/w1 widget.example.com/w2 "

check "kubectl scale sets the spec replicas path" \
  bash -c "k scale widget w1 --replicas=3 && [ \"\$(k get widget w1 -o jsonpath='{.spec.size}')\" = 3 ]"
check "kubectl scale beyond the schema's maximum: 422" \
  fails_with "spec.size: Invalid value: 20: spec.size in body should be less than or equal to 10" \
  k scale widget w1 --replicas=20
check "kubectl patch --subresource=status sets the status only" \
  bash -c "k patch widget w1 --subresource=status --type=merge -p '{\"status\":{\"size\":3,\"phase\":\"Ready\"},\"spec\":{\"size\":9}}' &&
    [ \"\$(k get widget w1 -o jsonpath='{.status.phase} {.status.size} {.spec.size}')\" = 'Ready 3 3' ]"
check "the scale subresource reads the status replicas path" \
  same "$(k get --raw /apis/example.com/v1/namespaces/default/widgets/w1/scale | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["spec"]["replicas"], s["status"]["replicas"])')" "3 3"
check "a status patch is validated against the schema too" \
  fails_with 'status.size: Invalid value: "string": status.size in body must be of type integer: "string"' \
  k patch widget w1 --subresource=status --type=merge -p '{"status":{"size":"x"}}'
check "kubectl apply --server-side of a custom resource defaults and prunes" \
  bash -c "widget w3 '{color: blue, junk: 1}' | k apply --server-side --validate=false -f - &&
    [ \"\$(k get widget w3 -o jsonpath='{.spec.size} {.spec.mode} {.spec.junk}')\" = '1 fast ' ]"
check "deleting the CRD stops serving its kind" \
  bash -c "k delete crd widgets.example.com && ! k get widgets 2>/dev/null"
finish
