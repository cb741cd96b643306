package io.machxp.scenario;

/**
 * One step of a thread's program.
 *
 * @param kind what it does
 * @param word the word it acts on (lock, trylock, unlock, consistent, read, write), the thread whose
 *     priority a priority step sets (null: the thread itself), the port an IPC
 *     step names (port_allocate, send, receive, rpc; "reply" for send: the last request's reply right), else null
 * @param nanos the duration (compute, sleep) or the lock timeout (-1: none)
 * @param value the value to write, the new priority, or the message id an IPC send or rpc sends
 * @param expect the outcome the step must have ("ok", an errno such as EOWNERDEAD, "busy"), or null
 * @param read the value a read must see (the message id a receive must get), as {@link WordValues} shows it ("free", "H|WAITERS", "13"),
 *     or null: a read whose value differs fails its expectation like a step with another outcome
 */
public record Step(Kind kind, String word, long nanos, long value, String expect, String read) {
    /** A step that expects no value read. */
    public Step(Kind kind, String word, long nanos, long value, String expect) {
        this(kind, word, nanos, value, expect, null);
    }

    public enum Kind {
        LOCK("lock"), TRYLOCK("trylock"), UNLOCK("unlock"), CONSISTENT("consistent"), COMPUTE("compute"),
        SLEEP("sleep"), READ("read"), WRITE("write"), PRIORITY("priority"), EXIT("exit"), DIE("die"),
        PORT_ALLOCATE("port_allocate"), SEND("send"), RECEIVE("receive"), RPC("rpc");

        /** Whether this is a Mach IPC step (sim mode only; see {@link IpcStepParser}). */
        public boolean ipc() {
            return this == PORT_ALLOCATE || this == SEND || this == RECEIVE || this == RPC;
        }

        public final String key;

        Kind(String key) {
            this.key = key;
        }

        static Kind of(String key) {
            for (Kind k : values()) {
                if (k.key.equals(key)) {
                    return k;
                }
            }
            return null;
        }
    }

    /** The arguments as a person reads them: "m (timeout 5ms)", "50ms", "data = 7", "". */
    public String args() {
        String s = toString();
        return s.startsWith(kind.key) ? s.substring(kind.key.length()).strip() : s;
    }

    @Override
    public String toString() {
        return switch (kind) {
            case LOCK -> "lock " + word + (nanos >= 0 ? " (timeout " + Durations.format(nanos) + ")" : "");
            case TRYLOCK, UNLOCK, CONSISTENT -> kind.key + " " + word;
            case READ -> "read " + word + (read != null ? " (expect " + read + ")" : "");
            case COMPUTE, SLEEP -> kind.key + " " + Durations.format(nanos);
            case WRITE -> "write " + word + " = " + value;
            case PRIORITY -> "priority " + value + (word != null ? " of " + word : "");
            case EXIT, DIE -> kind.key;
            case PORT_ALLOCATE -> kind.key + " " + word;
            case SEND, RPC -> kind.key + " " + word + " (id " + value + ")";
            case RECEIVE -> "receive " + word + (read != null ? " (expect id " + read + ")" : "")
                    + (nanos >= 0 ? " (timeout " + Durations.format(nanos) + ")" : "");
        };
    }
}
