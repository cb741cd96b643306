package io.machxp.kernel.core;

import io.machxp.proto.xp.KernelToPager;

/** The core as the {@link PageCache} and {@link PageSync} see it: how to send, and whether the pager is there. */
final class CoreLink implements PageCache.Link {
    private final KernelCore core;

    CoreLink(KernelCore core) {
        this.core = core;
    }

    @Override
    public void send(KernelToPager message) {
        core.sessions.send(message);
    }

    @Override
    public KernelPlants plants() {
        return core.plants;
    }

    @Override
    public void capKept(int room) {
        io.machxp.kernel.shm.SharedMemory memory = core.sharedMemory();
        if (memory != null) {
            memory.capKept(room);
        }
    }

    @Override
    public KernelError pagerError(int objectId) {
        return !core.sessions.pagerLost(objectId) ? null : core.sessions.pagerError(objectId);
    }

    @Override
    public void violation(String what, int objectId, long offset) {
        core.violation(what, objectId, offset);
    }
}
