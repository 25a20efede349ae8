package dev.tandem.cluster;

import dev.tandem.engine.EngineException;
import dev.tandem.engine.FinishReason;
import dev.tandem.engine.GenerationRequest;
import dev.tandem.engine.Logprobs;
import dev.tandem.model.SamplingParams;
import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.List;

/** The engine's small values on the wire (payload fields of {@link Frame}s): requests, log-probabilities, outcomes. */
final class Wire {
    private Wire() {}

    static void writeRequest(ByteBuf b, GenerationRequest r) {
        Frame.writeInts(b, r.promptTokens());
        SamplingParams s = r.sampling();
        b.writeFloat(s.temperature()).writeInt(s.topK()).writeFloat(s.topP()).writeFloat(s.minP())
                .writeFloat(s.repetitionPenalty()).writeFloat(s.presencePenalty()).writeFloat(s.frequencyPenalty())
                .writeInt(s.penaltyLastN()).writeLong(s.seed());
        b.writeInt(r.maxTokens());
        b.writeInt(r.stop().size());
        for (String stop : r.stop()) {
            Frame.writeString(b, stop);
        }
        b.writeBoolean(r.ignoreEos()).writeBoolean(r.logprobs()).writeInt(r.topLogprobs());
    }

    static GenerationRequest readRequest(ByteBuf b) {
        int[] prompt = Frame.readInts(b);
        SamplingParams s = new SamplingParams(b.readFloat(), b.readInt(), b.readFloat(), b.readFloat(), b.readFloat(),
                b.readFloat(), b.readFloat(), b.readInt(), b.readLong());
        int maxTokens = b.readInt();
        int stops = b.readInt();
        if (stops < 0 || stops > 64) {
            throw new Frame.ProtocolException(stops + " stop strings in a request");
        }
        List<String> stop = new ArrayList<>(stops);
        for (int i = 0; i < stops; i++) {
            stop.add(Frame.readString(b));
        }
        boolean ignoreEos = b.readBoolean(), logprobs = b.readBoolean();
        int top = b.readInt();
        try {
            return new GenerationRequest(prompt, s, maxTokens, stop, ignoreEos, logprobs, top);
        } catch (IllegalArgumentException e) {
            throw new Frame.ProtocolException("bad request: " + e.getMessage());
        }
    }

    /** Log-probabilities, or a lone -1 when absent. */
    static void writeLogprobs(ByteBuf b, Logprobs lp) {
        if (lp == null) {
            b.writeInt(-1);
            return;
        }
        b.writeInt(lp.topIds().length).writeFloat(lp.logprob());
        for (int i = 0; i < lp.topIds().length; i++) {
            b.writeInt(lp.topIds()[i]).writeFloat(lp.topLogprobs()[i]);
        }
    }

    static Logprobs readLogprobs(ByteBuf b) {
        int k = b.readInt();
        if (k < 0) {
            return null;
        }
        if (k > 20) {
            throw new Frame.ProtocolException(k + " top log-probabilities (at most 20)");
        }
        float lp = b.readFloat();
        int[] ids = new int[k];
        float[] values = new float[k];
        for (int i = 0; i < k; i++) {
            ids[i] = b.readInt();
            values[i] = b.readFloat();
        }
        return new Logprobs(lp, ids, values);
    }

    static FinishReason reason(int ordinal) {
        FinishReason[] all = FinishReason.values();
        if (ordinal < 0 || ordinal >= all.length) {
            throw new Frame.ProtocolException("unknown finish reason " + ordinal);
        }
        return all[ordinal];
    }

    static EngineException.Kind kind(int ordinal) {
        EngineException.Kind[] all = EngineException.Kind.values();
        if (ordinal < 0 || ordinal >= all.length) {
            throw new Frame.ProtocolException("unknown error kind " + ordinal);
        }
        return all[ordinal];
    }
}
