// InferKit's API speaks in JSON values (`JSONValue`, `JSONObject`: tool definitions, schemas,
// chat messages' extra fields) and chat template errors (`ChatTemplateError`), which the Jinja
// module defines: importing InferKit brings them along.
@_exported import Jinja
