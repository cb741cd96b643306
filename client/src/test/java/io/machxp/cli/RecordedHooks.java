package io.machxp.cli;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** The JVM's shutdown hooks as a test sees them: the hooks {@code machxp lock} installs, kept in order. */
final class RecordedHooks implements LockSignalGuard.Hooks {
    final List<Thread> hooks = new CopyOnWriteArrayList<>();

    @Override
    public void add(Thread hook) {
        hooks.add(hook);
    }

    @Override
    public void remove(Thread hook) {
        hooks.remove(hook);
    }
}
