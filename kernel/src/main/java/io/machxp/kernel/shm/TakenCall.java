package io.machxp.kernel.shm;

import static io.machxp.proto.shm.ShmLayout.INT;

import io.machxp.proto.shm.CallLayout;
import io.machxp.proto.shm.Futex;
import java.nio.ByteBuffer;

/**
 * One call the {@link CallReader} took from a slot of the call file, until it is answered: the
 * kernel's half of {@link CallLayout}'s phases. Thread-safe: answered from the thread the answer
 * is ready on (the core's, which also takes the calls), cancelled from the core's.
 */
public final class TakenCall {
    private final ByteBuffer file;
    private final long base;
    private final int at;
    /** The call number in the slot's state word. */
    final int call;
    private volatile Runnable onCancel;
    private volatile boolean over;

    TakenCall(ByteBuffer file, long base, int at, int call) {
        this.file = file;
        this.base = base;
        this.at = at;
        this.call = call;
    }

    /**
     * True once the client gave the call up (its deadline passed, it was interrupted, it went on to
     * its next call): an answer would reach nobody.
     */
    public boolean cancelled() {
        int s = (int) INT.getVolatile(file, at);
        return s != CallLayout.state(call, CallLayout.TAKEN) && s != CallLayout.state(call, CallLayout.ANSWERING)
                && s != CallLayout.state(call, CallLayout.ANSWERED);
    }

    /**
     * Answers the call: {@code kind} REPLY with the reply message's bytes, or STATUS with a
     * google.rpc.Status's. False, and nothing written, if the client gave the call up first (the
     * one CAS that decides between the two). The bytes must fit ({@link CallLayout#PAYLOAD}).
     */
    public boolean answer(int kind, byte[] bytes) {
        if (bytes.length > CallLayout.PAYLOAD) {
            throw new IllegalArgumentException("an answer of " + bytes.length + " bytes does not fit a call slot");
        }
        if (!INT.compareAndSet(file, at, CallLayout.state(call, CallLayout.TAKEN),
                CallLayout.state(call, CallLayout.ANSWERING))) {
            return false;
        }
        over = true;
        INT.set(file, at + CallLayout.ANSWER_KIND, kind);
        INT.set(file, at + CallLayout.ANSWER_LENGTH, bytes.length);
        file.put(at + CallLayout.PAYLOAD_AT, bytes);
        INT.setVolatile(file, at, CallLayout.state(call, CallLayout.ANSWERED));
        Futex.wake(base + at, Integer.MAX_VALUE);
        return true;
    }

    /** What to run when the client gives the call up before its answer (as gRPC's cancel handler). */
    public void onCancel(Runnable handler) {
        onCancel = handler;
    }

    /** The reader saw the client give the call up: the cancel handler runs, unless answered already. */
    void cancelledByClient() {
        Runnable handler = onCancel;
        if (!over && handler != null) {
            over = true;
            handler.run();
        }
    }
}
