import Hummingbird
import InferKit

/// Every error leaves as an OpenAI error body: the server's own `APIError`s, Hummingbird's
/// (unknown route 404, body too large 413...), and anything unexpected (500, logged).
struct OpenAIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response
        } catch let error as any HTTPResponseError {
            return APIError(status: error.status, message: message(for: error.status, request),
                            type: error.status.code < 500 ? "invalid_request_error" : "server_error").response
        } catch {
            context.logger.error("\(request.method) \(request.uri.path) failed: \(error)")
            return APIError.server("Internal error: \(error)").response
        }
    }

    private func message(for status: HTTPResponse.Status, _ request: Request) -> String {
        switch status {
        case .notFound: return "Unknown request URL: \(request.method) \(request.uri.path)."
        case .contentTooLarge: return "The request body is larger than the limit of \(maxBodyBytes) bytes."
        default: return status.reasonPhrase
        }
    }
}

/// With `--api-key`, every endpoint but /health wants `Authorization: Bearer KEY`.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path == "/health" || isAuthorized(request.headers[.authorization]) else {
            throw APIError.invalidAPIKey
        }
        return try await next(request, context)
    }

    /// Compares in time independent of where the keys differ, so timing reveals nothing of the key.
    private func isAuthorized(_ header: String?) -> Bool {
        guard let header, header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.dropFirst("Bearer ".count).utf8), expected = Array(key.utf8)
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for index in expected.indices {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }
}
