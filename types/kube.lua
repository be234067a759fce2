---@meta
-- LuaLS annotations for the luakube-rs API (luakube's API plus streams and the
-- modern API). Point your editor at this folder, e.g. in .luarc.json:
--   { "workspace.library": ["path/to/luakube-rs/types"] }

---@class kube
---@field null lightuserdata JSON null (equal to cjson.null)
local kube = {}

---@return string
function kube.version() end

--- Marks a table as a JSON array (so `{}` is sent as `[]`).
---@generic T: table
---@param t T
---@return T
function kube.array(t) end

-- kube.config ---------------------------------------------------------------

---@class kube.Config
local Config = {}
---@return string[]
function Config:contexts() end
---@return string[]
function Config:clusters() end
---@return string[]
function Config:usernames() end
--- The current context; with a name, switches to it (re-reads server and credentials).
---@param name string?
---@return string
function Config:context(name) end
---@return string
function Config:cluster() end
---@return string
function Config:username() end
---@return string
function Config:server_addr() end
--- `{authorization = "Bearer <token>"}` when a token is used, else `{}`.
---@return table<string, string>
function Config:headers() end
---@return string?
function Config:cert() end
---@return string?
function Config:key() end
--- Bounds on what one answer may make the module hold (README "Guarantees"):
--- `body` and `line` and `plugin_output` in bytes, `plugin_time` in seconds.
--- Defaults: 512 MiB, 64 MiB, 16 MiB, 60 s.
---@param limits { body: integer?, line: integer?, plugin_output: integer?, plugin_time: number? }
function Config:set_limits(limits) end

---@class kube.config
---@field Config { new: fun(self: any, tbl: table): kube.Config }
local config = {}
---@param path string? default $KUBECONFIG or ~/.kube/config
---@param context string? default the file's current-context
---@return kube.Config
function config.from_kube_config(path, context) end
---@return kube.Config
function config.in_cluster_config() end
---@param token string
---@param server string?
---@return kube.Config
function config.from_token(token, server) end

-- kube.api ------------------------------------------------------------------

--- What a successful call sent; credentials are redacted.
---@class kube.Info
---@field method string
---@field url string
---@field headers table<string, string|integer>
---@field body table|string|nil

---@class kube.api
---@field Client { new: fun(self: any, conf: kube.Config, panic: boolean?, mock: boolean?): kube.Client }

---@class kube.Client
local Client = {}
--- `body_string, info, code`; on an HTTP error `body, message, code`; unreachable `nil, message`.
---@param method string
---@param path string relative to /api
---@param body table|string?
---@param query table?
---@param style "merge"|"json"|"strategic"|"apply"|nil
---@return string|nil, kube.Info|string, integer?
function Client:raw_call(method, path, body, query, style) end
--- Like raw_call, the body decoded.
---@return table|nil, kube.Info|string, integer?
function Client:call(method, path, body, query, style) end
--- A group client for any group version, its resources learned from discovery
--- (`GET /apis/GROUP/VERSION`, cached per client; `{refresh = true}` asks again).
--- On failure: the Status, message, code.
---@param group_version string e.g. "stable.example.com/v1" or "v1"
---@param opts {refresh: boolean?}?
---@return kube.GroupClient|kube.Status, string?, integer?
function Client:api(group_version, opts) end

---@class kube.GroupClient
---@field [string] fun(self: kube.GroupClient, namespace: string?): kube.ResourceClient
local GroupClient = {}
---@return string|nil, kube.Info|string, integer?
function GroupClient:raw_call(method, path, body, query, style) end
---@return table|nil, kube.Info|string, integer?
function GroupClient:call(method, path, body, query, style) end

-- Resource clients ----------------------------------------------------------

---@alias kube.Object APIObject|NamespacedAPIObject
---@alias kube.Body table|string a Lua table or a YAML string

---@class kube.ResourceClient
---@field path_ string luakube's private field, read-only: "/namespaces/NS/pods" or "/pods"
---@field api_ string the resource name (read-only)
---@field namespaced_ boolean whether the client has a namespace (read-only)
---@field client_ kube.Client the top-level client (read-only)
local RC = {}
--- A call with `path` relative to this resource (`pods("demo"):call("GET", "/web-1")`),
--- as luakube's; `raw_call` returns the body text.
---@param method string? nil is GET
---@param path string|number?
---@param body table|string?
---@param query table?
---@param style "merge"|"json"|"strategic"|"apply"|nil
---@return table|nil, kube.Info|string, integer?
function RC:call(method, path, body, query, style) end
---@return string|nil, kube.Info|string, integer?
function RC:raw_call(method, path, body, query, style) end
--- By name: the object. Without a name (or with a query table first): the array of items.
---@overload fun(self: kube.ResourceClient, query: table?): kube.Object[]|kube.Status, kube.Info|string, integer
--- `opts.metadata_only`: only apiVersion, kind (PartialObjectMetadata) and metadata.
---@param name string
---@param query table?
---@param opts {metadata_only: boolean?}?
---@return kube.Object|kube.Status, kube.Info|string, integer
function RC:get(name, query, opts) end
--- `opts.metadata_only`: a PartialObjectMetadataList (items: apiVersion, kind, metadata);
--- `opts.fields`: items built with only these paths (and their identity), see kube.View.
---@param query table?
---@param opts kube.View?
---@return table|kube.Status, kube.Info|string, integer
function RC:list(query, opts) end
---@return table|kube.Status, kube.Info|string, integer
function RC:status(name) end
---@param obj kube.Body
---@param query table?
---@return kube.Object|kube.Status, kube.Info|string, integer
function RC:create(obj, query) end
---@param obj kube.Body
---@param query table?
---@return kube.Object|kube.Status, kube.Info|string, integer
function RC:update(obj, query) end
---@return kube.Object|kube.Status, kube.Info|string, integer
function RC:update_status(obj, query) end
---@param name string
---@param patch table|string
---@param query table?
---@param style "merge"|"json"|"strategic"|nil
---@return kube.Object|kube.Status, kube.Info|string, integer
function RC:patch(name, patch, query, style) end
---@return kube.Object|kube.Status, kube.Info|string, integer
function RC:patch_status(name, patch, query, style) end
---@return Response|kube.Status, kube.Info|string, integer
function RC:delete(name, query) end
---@return Response|kube.Status, kube.Info|string, integer
function RC:delete_collection(body, query) end
--- Server-side apply: PATCH application/apply-patch+yaml to …/<name>. `opts` is the
--- query: `fieldManager` (default "luakube-rs"), `force`, `dryRun`, `fieldValidation`.
--- A field owned by another manager answers 409 (`status:is_conflict()`) unless `force`.
---@param obj kube.Body
---@param opts {fieldManager: string?, force: boolean?, dryRun: string?}?
---@return kube.Object|kube.Status, kube.Info|string, integer
function RC:apply(obj, opts) end
--- Events as they happen: `for type, obj in rc:watch() do … end`, type one of
--- ADDED, MODIFIED, DELETED, ERROR (BOOKMARK with `opts.bookmarks`). Without a
--- `resourceVersion` in `query` it lists first (ADDED for each object). Resumes
--- across stream ends and reconnects; on 410 Expired lists again and reports the
--- difference; an object it finds gone is DELETED with its kind, apiVersion and
--- metadata namespace/name/uid/resourceVersion only, unless `opts.keep_last_state`
--- (then with the last state seen; costs a copy of the watched set). Raises
--- `Code N: …` for other HTTP errors and after `retries` failed connections in a row.
---@param query table? selectors, resourceVersion
---@param opts {timeout: number?, bookmarks: boolean?, reconnect: boolean?, retries: integer?, server_timeout: integer?, keep_last_state: boolean?, metadata_only: boolean?, fields: string[]?}?
---@return kube.Watch
function RC:watch(query, opts) end
--- Every item across pages: `for obj in rc:iter() do … end`. Page size
--- `opts.limit` (or `query.limit`, default 500). When a continue token expires
--- (410) the list restarts and skips objects already yielded.
---@param query table?
---@param opts {limit: integer?, metadata_only: boolean?, fields: string[]?}?
---@return kube.ListIterator
function RC:iter(query, opts) end
--- A watch-backed local cache of this resource (see kube.cache).
---@param query table?
---@param opts {on_change: fun(type: string, obj: kube.Object, old: kube.Object?)?, metadata_only: boolean?, fields: string[]?}?
---@return kube.Store
function RC:informer(query, opts) end

--- What objects come back as, when not whole (opt-in; README "Metadata-only and
--- projected objects").
---@class kube.View
---@field metadata_only boolean? the server sends PartialObjectMetadata: apiVersion, kind, metadata only
---@field fields string[]? dotted paths to build (e.g. "status.podIP"); namespace, name, uid, resourceVersion, apiVersion and kind are always kept

---@class kube.PodClient: kube.ResourceClient
local Pods = {}
---@param name string
---@param query {container: string?, tailLines: integer?, sinceSeconds: integer?, timestamps: boolean?, previous: boolean?}?
---@return string|kube.Status, kube.Info|string, integer
function Pods:logs(name, query) end
--- Log lines as they arrive (`follow=true`): `for line in pods:follow_logs(name) do … end`.
--- Ends when the server ends the stream or after `opts.timeout` seconds; raises
--- `Code N: …` when the request fails.
---@param name string
---@param query table?
---@param opts {timeout: number?}?
---@return kube.LogLines
function Pods:follow_logs(name, query, opts) end
---@param name string
---@return {get: function, update: function, patch: function}
function Pods:ephemeralcontainers(name) end
--- POST a policy/v1 Eviction to …/pods/<name>/eviction (429 while a
--- PodDisruptionBudget forbids it). `delete_options`: DeleteOptions fields.
---@param name string
---@param delete_options table?
---@return Response|kube.Status, kube.Info|string, integer
function Pods:evict(name, delete_options) end
--- POST a Binding of the pod to `node` (…/pods/<name>/binding).
---@param name string
---@param node string
---@return Response|kube.Status, kube.Info|string, integer
function Pods:bind(name, node) end

---@alias kube.Command string[]|string  a string runs as `sh -c STRING`

---@class kube.ExecOptions
---@field container string? the container (needed when the pod has several)
---@field stdin boolean|string? exec: a string is sent as stdin, then stdin is closed (v5); sessions: default true
---@field stdout boolean? default true
---@field stderr boolean? default true (false with tty: a terminal has one output)
---@field tty boolean? a terminal (the server runs the command on a pty); `resize` works
---@field protocol "v5.channel.k8s.io"|"v4.channel.k8s.io"? only this protocol (default: v5, else v4)
---@field timeout number? exec: seconds for the whole command
---@field max_bytes integer? exec: the most output kept (default 64 MiB); more is an error

--- Runs a command in a container and waits for it (WebSocket `v5.channel.k8s.io`,
--- else `v4`, over the client's own TLS, proxy and credentials).
--- `out, err, 0` on success; `out, err, N` for exit code N; `out, err, nil, message`
--- when the command could not run (e.g. not found); `nil, message` when the session
--- failed (unknown pod or container, refused upgrade, broken connection, timeout).
--- Waits on the calling thread in a script; yields to the loop in a host adapter's
--- coroutine; `nonblocking.start(pods, "exec", ...)` gives a pending handle.
---@param name string
---@param command kube.Command
---@param opts kube.ExecOptions?
---@return string?, string, integer?, string?
function Pods:exec(name, command, opts) end
--- An interactive exec session (stdin open by default); see `kube.Session`.
---@param name string
---@param command kube.Command
---@param opts kube.ExecOptions?
---@return kube.Session
function Pods:exec_session(name, command, opts) end
--- Attaches to the container's running process (its stdin, stdout, stderr); see `kube.Session`.
---@param name string
---@param opts kube.ExecOptions?
---@return kube.Session
function Pods:attach(name, opts) end
--- One forwarded connection to `port` of the pod (`portforward.k8s.io`): a
--- `kube.Session` whose reads give `"data", bytes` and whose `write` sends.
---@param name string
---@param port integer
---@return kube.Session
function Pods:portforward(name, port) end
--- What `kubectl port-forward` does: listens on `opts.address` (default 127.0.0.1)
--- port `opts.local_port` (default 0: a free port) and forwards each accepted
--- connection to `port` of the pod over its own WebSocket, on the background runtime.
--- Raises when the local port cannot be bound.
---@param name string
---@param port integer
---@param opts {address: string?, local_port: integer?}?
---@return kube.PortForwarder
function Pods:portforward_listen(name, port, opts) end
--- Copies a local file or directory into the container, as `kubectl cp` does
--- (a tar stream to `tar -xmf - -C DIR` in the container). `remote` ending in `/`
--- is a directory the source goes into under its own name.
--- `true, bytes_sent` or `nil, message`. Waits on the calling thread in a script,
--- yields in a host adapter's coroutine (a pending handle with `nonblocking.start`).
---@param name string
---@param local_path string
---@param remote_path string
---@param opts {container: string?, timeout: number?, protocol: string?}?
---@return true?, integer|string
function Pods:cp_to(name, local_path, remote_path, opts) end
--- Copies a file or directory out of the container (`tar cf -` there, unpacked
--- here as it arrives; `remote_path` itself becomes `local_path`). Only regular
--- files and directories are written; links and devices are skipped and no entry
--- may leave `local_path`. `true, files_written` or `nil, message`. Waits or yields
--- as `cp_to` does.
---@param name string
---@param remote_path string
---@param local_path string
---@param opts {container: string?, timeout: number?, protocol: string?}?
---@return true?, integer|string
function Pods:cp_from(name, remote_path, local_path, opts) end

---@class kube.NamespaceClient: kube.ResourceClient
local Namespaces = {}
---@return kube.Object|kube.Status, kube.Info|string, integer
function Namespaces:finalize(obj, query) end

---@class kube.ScaleSubresourceClient: kube.ResourceClient
local ScaleSub = {}
--- GET …/<name>/scale: an autoscaling/v1 Scale.
---@return APIObject|kube.Status, kube.Info|string, integer
function ScaleSub:get_scale(name) end
--- PUT …/<name>/scale: a Scale table, or just the replica count.
---@param scale table|integer
---@return APIObject|kube.Status, kube.Info|string, integer
function ScaleSub:replace_scale(name, scale) end

---@class kube.PatchScalableClient: kube.ResourceClient
local PatchScale = {}
--- luakube's scale: a merge patch of spec.replicas.
---@return kube.Object|kube.Status, kube.Info|string, integer
function PatchScale:scale(name, replicas, query) end

---@class kube.ScalableClient: kube.ScaleSubresourceClient, kube.PatchScalableClient

-- Iterators -----------------------------------------------------------------

--- A generic-for iterator of `type, object`; closes its connection on break
--- (at once on Lua 5.4, else when collected), on `close()` or at its timeout.
---@class kube.Watch
---@overload fun(): string?, kube.Object|kube.Status|nil
local Watch = {}
--- One event, or nil when none came within `timeout` seconds (the watch stays open).
---@param timeout number?
---@return string?, kube.Object|kube.Status|nil
function Watch:next(timeout) end
--- True once the watch is over (timeout, close, or the stream ended without reconnect).
---@return boolean
function Watch:finished() end
--- The resourceVersion it would resume from.
---@return string?
function Watch:resource_version() end
function Watch:close() end

---@class kube.ListIterator
---@overload fun(): kube.Object?
local ListIterator = {}
function ListIterator:close() end

---@class kube.LogLines
---@overload fun(): string?
local LogLines = {}
function LogLines:close() end

--- An exec, attach or port-forward session. Its connection runs in the background:
--- `read(0)` never waits, and inside a host adapter's coroutine (`kube.luv`,
--- `kube.cqueues`, `kube.ngx`) `read`, `wait`, `protocol`, `close_stdin` and the
--- generic for yield to the loop; `write` and `resize` never wait.
--- `for stream, chunk in session do … end` gives `"stdout"|"stderr"|"data", bytes`.
---@class kube.Session
---@overload fun(): string?, string?
local Session = {}
--- The next chunk: `stream, bytes`; `nil, "timeout"` when none came within
--- `timeout` seconds; nothing at the end. Raises when the session broke.
---@param timeout number?
---@return string?, string?
function Session:read(timeout) end
--- Sends bytes to stdin (to the pod's port for port-forward).
---@param data string
---@return true
function Session:write(data) end
--- Closes stdin (`v5.channel.k8s.io` only; `false, message` on v4).
---@return boolean, string?
function Session:close_stdin() end
--- Tells the terminal its size (tty sessions).
---@param cols integer
---@param rows integer
function Session:resize(cols, rows) end
--- Waits for the end: the exit code and the Status; `nil, message, status` when the
--- command could not run; `nil, "timeout"` when `timeout` passed. Unread output is dropped.
---@param timeout number?
---@return integer?, table|string?, table?
function Session:wait(timeout) end
--- The subprotocol the server chose, waiting for the upgrade's answer up to `timeout`
--- seconds (none: until it comes; 0: only looks): `nil, "timeout"` when it has not come.
--- Yields in a host adapter's coroutine, as `close_stdin` does.
---@param timeout number?
---@return string?, string?
function Session:protocol(timeout) end
--- True once the session ended.
---@return boolean
function Session:finished() end
function Session:close() end

--- A local listener forwarding to a pod port (`Pods:portforward_listen`).
---@class kube.PortForwarder
local PortForwarder = {}
---@return integer
function PortForwarder:port() end
---@return string
function PortForwarder:address() end
--- `http://ADDRESS:PORT`
---@return string
function PortForwarder:url() end
--- `{accepted = n, active = n, open = boolean}`
---@return {accepted: integer, active: integer, open: boolean}
function PortForwarder:stats() end
--- The last (up to 32) failures of forwarded connections (refused upgrades, remote errors).
---@return string[]
function PortForwarder:errors() end
--- Stops listening and ends every forwarded connection (also done when collected).
function PortForwarder:close() end

-- kube.cache ----------------------------------------------------------------

---@class kube.cache
local cache = {}
---@param rc kube.ResourceClient
---@param query table?
---@param opts {on_change: fun(type: string, obj: kube.Object, old: kube.Object?)?, metadata_only: boolean?, fields: string[]?}?
---@return kube.Store
function cache.informer(rc, query, opts) end

--- A reflector's store, changed only inside `sync` (no threads).
---@class kube.Store
---@field synced boolean true after the first sync
local Store = {}
--- Pumps events for up to `timeout` seconds (default 0); returns how many changed the store.
---@param timeout number?
---@return integer
function Store:sync(timeout) end
--- `store:get(ns, name)`, or `store:get(name)` for cluster-scoped resources.
---@return kube.Object?
function Store:get(namespace, name) end
---@return kube.Object[]
function Store:list() end
--- The changes since the last call: `for type, obj, old in store:changes() do … end`.
---@return fun(): string?, kube.Object?, kube.Object?
function Store:changes() end
---@return string?
function Store:resource_version() end
function Store:close() end

-- kube.api.objects -----------------------------------------------------------

---@class Response
local Response = {}
---@return boolean
function Response:is_failure() end

---@class APIObject: Response
---@field metadata table
local APIObject = {}
---@return string
function APIObject:name() end
---@return table<string, string>
function APIObject:labels() end
function APIObject:set_labels(labels) end
---@return table<string, string>
function APIObject:annotations() end
function APIObject:set_annotations(annotations) end
---@return string
function APIObject:uid() end
---@return string
function APIObject:creation_timestamp() end

---@class NamespacedAPIObject: APIObject
local NamespacedAPIObject = {}
---@return string
function NamespacedAPIObject:namespace() end

--- A failed call's Status, returned first: `local st, msg, code = rc:get("x")`.
---@class kube.Status: Response
---@field reason string? NotFound, AlreadyExists, Conflict, Forbidden, Unauthorized, Invalid, Expired …
---@field code integer
---@field message string
---@field details {name: string?, group: string?, kind: string?, causes: table[]?}?
local Status = {}
---@return boolean
function Status:is_not_found() end
---@return boolean
function Status:is_conflict() end
---@return boolean
function Status:is_already_exists() end
---@return boolean
function Status:is_forbidden() end
---@return boolean
function Status:is_unauthorized() end
---@return boolean
function Status:is_invalid() end
---@return boolean
function Status:is_gone() end

-- kube.testing ---------------------------------------------------------------

---@class kube.TestServer
---@field url string
---@field kubeconfig string
---@field dir string
---@field stop fun()
---@field restart fun()
