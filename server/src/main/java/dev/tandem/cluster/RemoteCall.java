package dev.tandem.cluster;

import dev.tandem.engine.EngineException;
import dev.tandem.engine.FinishReason;
import dev.tandem.engine.GenerationRequest;
import dev.tandem.engine.Logprobs;
import dev.tandem.engine.RequestHandle;
import dev.tandem.engine.TokenSink;
import dev.tandem.engine.Usage;

import java.util.HashSet;
import java.util.Set;

/**
 * One request as the router tracks it: registered at a decode node (moved to another when that one
 * refuses it for lack of room or is lost before admitting it), prefilled by a prefill node
 * (retried on another when that one refuses, fails or dies before shipping), streamed back from the
 * decode node. Every transition is synchronized on the call; the sink hears exactly one terminal call.
 */
final class RemoteCall implements RequestHandle {
    final long id;
    final GenerationRequest request;
    private final TokenSink sink;
    private final RemoteEngine router;
    volatile ClusterNode decode;      // current decode node
    ClusterNode prefill;              // current prefill node, null before REGISTERED and after SHIPPED
    private final Set<ClusterNode> tried = new HashSet<>();
    private final Set<ClusterNode> triedDecode = new HashSet<>();
    private boolean registered;       // the decode node admitted it (from then on it cannot move)
    private boolean shipped;
    private boolean ended;
    private boolean cancelled;
    private EngineException lastPrefillError;

    RemoteCall(long id, GenerationRequest request, TokenSink sink, RemoteEngine router) {
        this.id = id;
        this.request = request;
        this.sink = sink;
        this.router = router;
    }

    /** Registers it at decode node {@code d} (the first, or another after a refusal). */
    synchronized void register(ClusterNode d) {
        triedDecode.add(d);
        decode = d;
        d.assigned.incrementAndGet();
        router.sendRegister(d, this);
    }

    /**
     * Decode node {@code from} refused it, failed it, or was lost. Before it was admitted there, a
     * refusal for lack of room (or shutdown) or the node's loss moves it to another decode node;
     * afterwards the request fails (its stream ends with the error).
     *
     * @param lost the node's connection failed (else it answered ERROR)
     */
    synchronized void decodeFailed(ClusterNode from, EngineException error, boolean lost) {
        if (ended || from != decode) {
            return;
        }
        if (cancelled && !registered) { // cancelled before any node held it: a cancellation, not a failure
            finished(FinishReason.CANCELLED, new Usage(request.promptTokens().length, 0));
            return;
        }
        boolean movable = !registered && !cancelled && (lost || error.kind() == EngineException.Kind.OVERLOADED
                || error.kind() == EngineException.Kind.SHUTTING_DOWN);
        ClusterNode next = movable ? router.pickDecode(triedDecode) : null;
        if (next == null) {
            fail(error);
            return;
        }
        from.assigned.decrementAndGet();
        register(next);
    }

    @Override
    public void cancel() {
        synchronized (this) {
            if (ended || cancelled) {
                return;
            }
            cancelled = true;
            if (prefill != null) {
                router.send(prefill, Frame.CANCEL, id);
            }
        }
        router.send(decode, Frame.CANCEL, id); // the decode node ends it: FINISH(CANCELLED) comes back
    }

    /** The decode node admitted it: place the prefill. */
    synchronized void registered(ClusterNode from) {
        if (ended || from != decode) {
            return;
        }
        registered = true;
        if (cancelled) {
            router.send(decode, Frame.CANCEL, id);
            return;
        }
        placePrefill();
    }

    private void placePrefill() {
        ClusterNode p = router.pickPrefill(tried);
        if (p == null) {
            EngineException e = lastPrefillError != null ? lastPrefillError
                    : new EngineException(EngineException.Kind.OVERLOADED, "no prefill node is available; retry later");
            router.send(decode, Frame.CANCEL, id);
            fail(e);
            return;
        }
        tried.add(p);
        prefill = p;
        p.assigned.incrementAndGet();
        router.sendPrefill(p, this);
    }

    synchronized void shipped(ClusterNode from) {
        if (from == prefill) {
            shipped = true;
            releasePrefill();
        }
    }

    /** The prefill node failed or refused it, or its connection was lost. */
    synchronized void prefillFailed(ClusterNode from, EngineException error) {
        if (ended || from != prefill || shipped) {
            return;
        }
        releasePrefill();
        lastPrefillError = error;
        if (cancelled || error.kind() == EngineException.Kind.INVALID_REQUEST) {
            router.send(decode, Frame.CANCEL, id);
            fail(error);
            return;
        }
        placePrefill();
    }

    private void releasePrefill() {
        if (prefill != null) {
            prefill.assigned.decrementAndGet();
            prefill = null;
        }
    }

    synchronized void token(int tok, String text, Logprobs lp) {
        if (!ended) {
            sink.onToken(tok, text, lp);
        }
    }

    synchronized void finished(FinishReason reason, Usage usage) {
        if (ended) {
            return;
        }
        end();
        sink.onFinish(reason, usage);
    }

    /** Fails it (the decode node's error, its loss, or no prefill node). */
    synchronized void fail(EngineException error) {
        if (ended) {
            return;
        }
        if (prefill != null) {
            router.send(prefill, Frame.CANCEL, id);
        }
        end();
        sink.onError(error);
    }

    private void end() {
        ended = true;
        releasePrefill();
        decode.assigned.decrementAndGet();
        router.ended(this);
    }
}
