package io.machxp.scenario;

import io.machxp.kernel.futex.Acquired;
import io.machxp.proto.task.AcquirePath;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Outcomes of steps, from the kernel's answers (both platforms). */
final class Outcomes {
    private Outcomes() {}

    /** A lock's answer: null is a trylock that did not get the futex. */
    static Outcome acquired(Acquired a) {
        if (a == null) {
            return new Outcome("busy", "");
        }
        return acquired(a.path(), a.ownerDied());
    }

    static Outcome acquired(AcquirePath path, boolean ownerDied) {
        String how = switch (path) {
            case FAST_PATH -> "cached";
            case LOCAL_HANDOFF -> "handed over";
            case PAGER_GRANT -> "pager grant";
            default -> path.name();
        };
        return ownerDied ? new Outcome("EOWNERDEAD", how + ", previous owner died") : Outcome.ok(how);
    }

    /** A read step's answer, the value shown by {@link WordValues} as on every platform. */
    static Outcome read(WordValues values, String word, byte[] bytes) {
        return Outcome.ok(values.render(word, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getInt()));
    }

    static byte[] word(int value) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array();
    }
}
