import Hummingbird

/// An error as OpenAI's API reports it: an HTTP status and
/// `{"error": {"message", "type", "param", "code"}}`, which the official clients turn into
/// their typed exceptions.
struct APIError: Error, Equatable {
    var status: HTTPResponse.Status
    var message: String
    /// `invalid_request_error`, `server_error`...
    var type: String
    /// The request field at fault, when there is one.
    var param: String?
    /// A machine-readable code (`model_not_found`, `context_length_exceeded`...).
    var code: String?
    /// Seconds after which to try again (503 when every slot is busy).
    var retryAfter: Int?

    /// 400: the request cannot be served as it is.
    static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    /// 400 for a field of the wrong JSON type.
    static func invalidType(_ param: String, expected: String) -> APIError {
        invalidRequest("Invalid type for '\(param)': expected \(expected).", param: param, code: "invalid_type")
    }

    /// 400 for a field whose value is out of range or not allowed.
    static func invalidValue(_ param: String, _ problem: String) -> APIError {
        invalidRequest("Invalid '\(param)': \(problem).", param: param, code: "invalid_value")
    }

    static func missing(_ param: String) -> APIError {
        invalidRequest("Missing required parameter: '\(param)'.", param: param, code: "missing_required_parameter")
    }

    static let invalidAPIKey = APIError(
        status: .unauthorized, message: "Incorrect or missing API key: send it as 'Authorization: Bearer KEY'.",
        type: "invalid_request_error", code: "invalid_api_key")

    static let busy = APIError(
        status: .serviceUnavailable, message: "The server is busy: every slot is in use and the queue is full. Try again shortly.",
        type: "server_error", code: "server_busy", retryAfter: 1)

    static let shuttingDown = APIError(
        status: .serviceUnavailable, message: "The server is shutting down.", type: "server_error", code: "shutting_down")

    /// The client closed its connection before the answer was ready (nginx's 499: nobody
    /// reads it, but the log shows why the request ended).
    static let clientGone = APIError(
        status: HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request"),
        message: "The client closed the connection.", type: "invalid_request_error")

    static func server(_ message: String) -> APIError {
        APIError(status: .internalServerError, message: message, type: "server_error")
    }

    /// The JSON body.
    var body: ErrorBody {
        ErrorBody(error: .init(message: message, type: type, param: param, code: code))
    }

    struct ErrorBody: Encodable {
        struct Detail: Encodable {
            let message: String
            let type: String
            let param: String?
            let code: String?

            // OpenAI writes `null` for an absent param or code; the synthesized encoding would leave them out.
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(message, forKey: .message)
                try container.encode(type, forKey: .type)
                try container.encode(param, forKey: .param)
                try container.encode(code, forKey: .code)
            }

            enum CodingKeys: String, CodingKey { case message, type, param, code }
        }

        let error: Detail
    }

    var response: Response {
        var response = Response.json(body, status: status)
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }
}
