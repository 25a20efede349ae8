package dev.tandem.bench.loadgen;

/**
 * What one request measured. Times are milliseconds; on failure only {@code reason}/{@code detail} and the
 * planned lengths mean anything.
 *
 * @param requestClass  the workload class the request was drawn from ("default" when there is one)
 * @param inputTokens   prompt tokens: the server's {@code usage.prompt_tokens}, else the planned length
 * @param outputTokens  generated tokens: the server's {@code usage.completion_tokens}, else the content chunks counted
 * @param ttftMs        send → first chunk with non-empty text
 * @param e2elMs        send → end of the stream
 * @param itlsMs        gaps between consecutive content chunks, in arrival order
 * @param reason        a short failure class for counting ("HTTP 429", "timeout", …), null on success
 * @param detail        the failure's full message, "" on success
 */
record RequestResult(int index, String requestClass, int plannedInput, int plannedOutput, boolean success,
                     int inputTokens, int outputTokens, double ttftMs, double e2elMs, double[] itlsMs,
                     String reason, String detail) {

    static RequestResult failed(PlannedRequest p, String reason, String detail) {
        return new RequestResult(p.index(), p.requestClass(), p.inputLen(), p.outputLen(), false, 0, 0, 0, 0, new double[0],
                reason, detail);
    }

    /** (e2e − ttft) / (output − 1), or 0 with one output token (vllm's convention). */
    double tpotMs() {
        return outputTokens > 1 ? (e2elMs - ttftMs) / (outputTokens - 1) : 0;
    }
}
