package io.machxp.kernel.ipc.link;

import io.machxp.kernel.ipc.IpcNet;
import io.machxp.proto.link.LinkFrame;

/**
 * A kernel's {@link IpcLinks} as one session's IPC core sees them: once that session is over (the
 * kernel left, or rejoined as the next session), the core sends nothing more and every other
 * kernel is dead to it - a retired core's late frames never reach the others under the new
 * session. Leave and rejoin run on the kernel's core thread, which runs every session's core, so
 * the check is not racy.
 */
final class SessionNet implements IpcNet {
    private final IpcLinks links;
    private final int session;

    SessionNet(IpcLinks links, int session) {
        this.links = links;
        this.session = session;
    }

    @Override
    public int self() {
        return links.self();
    }

    @Override
    public int session() {
        return session;
    }

    @Override
    public void send(int kernel, LinkFrame frame) {
        if (!links.over(session)) {
            links.send(kernel, frame);
        }
    }

    @Override
    public void broadcast(LinkFrame frame) {
        if (!links.over(session)) {
            links.broadcast(frame);
        }
    }

    @Override
    public int kernels() {
        return links.kernels();
    }

    @Override
    public void hopBoundReached(String kind, String port, int from, int next, int bound) {
        links.hopBoundReached(kind, port, from, next, bound);
    }

    @Override
    public boolean dead(int kernel) {
        return links.over(session) || links.dead(kernel);
    }
}
