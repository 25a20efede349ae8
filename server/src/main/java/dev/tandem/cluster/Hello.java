package dev.tandem.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The first frame of a cluster connection: who connects, with which shared token, for which model
 * and KV layout. A node accepts a connection only when the token matches (compared in constant
 * time), the model identity is its own, and — when the client names one (a prefill node does; a
 * router, which holds no KV, sends kv type "" and zeros) — the KV type, page size, layers and row
 * width are its own.
 *
 * @param role      the client's role (router, prefill)
 * @param token     the cluster's shared token ("" when the cluster runs without one)
 * @param modelHash {@link ModelIdentity} of the client's GGUF file
 * @param kvType    element type of a KV row ("f32"), or "" when the client holds no KV
 */
record Hello(String role, String token, String modelHash, String kvType, int pageSize, int layers, int kvDim) {

    ByteBuf encode(ByteBufAllocator alloc) {
        ByteBuf b = Frame.start(alloc, Frame.HELLO, 256);
        Frame.writeString(b, role);
        Frame.writeString(b, token);
        Frame.writeString(b, modelHash);
        Frame.writeString(b, kvType);
        b.writeInt(pageSize).writeInt(layers).writeInt(kvDim);
        return b;
    }

    /** Reads the payload of a HELLO frame (its header already read). */
    static Hello decode(ByteBuf b) {
        return new Hello(Frame.readString(b), Frame.readString(b), Frame.readString(b), Frame.readString(b),
                b.readInt(), b.readInt(), b.readInt());
    }

    /**
     * Why a node with identity {@code mine} (its own token, hash and KV layout) refuses the client
     * {@code theirs}, or null when it accepts. The token is checked first and its value is never named.
     */
    static String refusal(Hello mine, Hello theirs) {
        if (!MessageDigest.isEqual(mine.token.getBytes(StandardCharsets.UTF_8), theirs.token.getBytes(StandardCharsets.UTF_8))) {
            return "wrong cluster token (set the same --cluster-token or TANDEM_CLUSTER_TOKEN on every node)";
        }
        if (!mine.modelHash.equals(theirs.modelHash)) {
            return "model mismatch: this node serves model " + mine.modelHash + ", the " + theirs.role + " has "
                    + theirs.modelHash + " (every node must load the same GGUF file)";
        }
        if (theirs.kvType.isEmpty()) {
            return null;
        }
        if (!mine.kvType.equals(theirs.kvType) || mine.pageSize != theirs.pageSize || mine.layers != theirs.layers
                || mine.kvDim != theirs.kvDim) {
            return "KV layout mismatch: this node stores " + mine.layout() + ", the " + theirs.role + " sends " + theirs.layout();
        }
        return null;
    }

    private String layout() {
        return kvType + " rows of " + kvDim + " in pages of " + pageSize + " positions, " + layers + " layers";
    }
}
