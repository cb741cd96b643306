package io.machxp.pager.store;

/** For tests outside this package: stops a {@link FilePageStore}'s next write as a crash would. */
public final class StoreCrashes {
    private StoreCrashes() {}

    /** What the crash throws; nothing of the write after it runs. */
    public static final class Crash extends RuntimeException {
        Crash(String step) {
            super("crash after " + step);
        }
    }

    /** The store's next write stops once its record is forced, before its data is written. */
    public static void crashAfterRecord(FilePageStore store) {
        store.steps = (step, object, offset) -> {
            if (step == FilePageStore.Step.RECORD_FORCED) {
                store.steps = (s, o, at) -> { };
                throw new Crash(step.name());
            }
        };
    }

    /**
     * The store's process dies the first time a write reaches {@code step} (a name of
     * {@link FilePageStore.Step}): that step and every one after it throws, so nothing more is
     * written. {@code died} is counted down when it happens.
     */
    public static void dieAt(FilePageStore store, String step, java.util.concurrent.CountDownLatch died) {
        FilePageStore.Step at = FilePageStore.Step.valueOf(step);
        boolean[] dead = {false};
        store.steps = (s, object, offset) -> {
            if (dead[0] || s == at) {
                dead[0] = true;
                died.countDown();
                throw new Crash(s.name());
            }
        };
    }
}
