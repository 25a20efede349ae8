package dev.tandem.http;

import dev.tandem.engine.EngineException;

/**
 * An error the client gets as an OpenAI error object {@code {"error":{"message","type","param","code"}}}
 * with an HTTP status. Thrown while parsing and validating, caught at the edge of the handler.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;

    public ApiException(int status, String type, String param, String code, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    /** 400, invalid_request_error, naming the parameter at fault (may be null). */
    public static ApiException badRequest(String param, String message) {
        return new ApiException(400, "invalid_request_error", param, null, message);
    }

    public static ApiException notFound(String message) {
        return new ApiException(404, "not_found_error", null, null, message);
    }

    public static ApiException unavailable(String message) {
        return new ApiException(503, "unavailable_error", null, null, message);
    }

    /** The status and type an engine failure maps to (DESIGN.md: 400 / 429 / 503 / 500). */
    public static ApiException fromEngine(EngineException e) {
        return switch (e.kind()) {
            case INVALID_REQUEST -> new ApiException(400, "invalid_request_error", null, null, e.getMessage());
            case OVERLOADED -> new ApiException(429, "rate_limit_error", null, "rate_limit_exceeded", e.getMessage());
            case SHUTTING_DOWN -> unavailable(e.getMessage());
            case INTERNAL -> new ApiException(500, "server_error", null, null, e.getMessage());
        };
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }
}
