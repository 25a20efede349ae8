/**
 * tandem across processes: {@code tandem serve --role prefill|decode|router} (DESIGN.md "Where it
 * grows beyond one machine").
 *
 * <pre>
 * client ─HTTP/SSE─▶ router (RemoteEngine: the unchanged HTTP layer tokenizes and validates)
 *                      │ 1. REGISTER id, request ──────────────▶ decode node D (DecodeSide → SplitEngine.submitImport:
 *                      │ ◀──────────────────────── REGISTERED     admitted, pages reserved, not prefilled)
 *                      │ 2. PREFILL id, request, D's kv address ─▶ prefill node P (PrefillSide → SplitEngine.submitExport)
 *                      │                                            │ prefill in chunks; after each chunk the whole pages
 *                      │                                            │ go to D (KV_PAGE, CRC32C), overlapping the rest
 *                      │                                            │ first token sampled: last pages, SEQ_END (token,
 *                      │ ◀────────────────────────── SHIPPED         │ sampler state) → D; the request ends on P
 *                      │                                            ▼
 *                      │                            D adopts it (prefill thread: K/V into the reserved pages,
 *                      │                            sampler rebuilt, first token delivered) → its decode worker
 *                      │ ◀── TOKEN id, token, text, logprobs … FINISH / ERROR  (text decoded on D, as in one process)
 * </pre>
 *
 * <p><b>Frames</b> ({@link dev.tandem.cluster.Frame}): "TKV1", version, type; every connection opens
 * with HELLO (role, shared token, model identity = SHA-256 of the GGUF metadata and tensor table,
 * KV type, page size, layers, row width) and is REFUSED with a readable reason on any mismatch.
 *
 * <p><b>Why the answers are the same as one process</b>: the prefill and decode nodes run the
 * same split engine; the K/V bytes move unchanged; the decode node feeds its sampler the prompt
 * and the first token and restarts its random stream where the prefill node's stood; text, stop
 * strings and finish reasons are computed on the decode node by the same code from the same tokens.
 *
 * <p><b>Failures</b>: a prefill node that refuses (queue full), fails, or dies before SHIPPED —
 * the router places the prefill on another prefill node (D drops a half-received sequence when
 * its sender's connection closes). A decode node that refuses for lack of room, or is lost before
 * admitting the request — another decode node. A decode node lost afterwards — the request fails
 * at once (an SSE error event). The router polls every node's {@code /health} every 500 ms
 * (timeout 1 s) and drops a node whose poll or connection fails. A router connection that closes
 * cancels its requests on the nodes.
 *
 * <p><b>Costs and limits</b>: a prefill node reserves KV pages for prompt + max tokens (its split
 * engine's admission) until the sequence is shipped; a decode node holds received pages in heap
 * buffers until the prefill thread writes them into its cache (one extra copy); the decode node's
 * token frames are allocated per token (like the HTTP sink's); a request waiting at D for a prefill
 * that never comes is ended only by the router (cancel, or the loss of D).
 */
package dev.tandem.cluster;
