package io.machxp.kernel;

import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.ipc.link.IpcLinks;
import io.machxp.kernel.ipc.link.LinkConfig;
import io.machxp.kernel.ipc.link.LinkListener;
import io.machxp.kernel.ipc.link.LinkTls;
import io.machxp.kernel.net.TaskHandles;
import io.machxp.proto.link.LinkFrame;
import io.machxp.proto.transport.Transport;
import io.machxp.proto.transport.TransportException;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * A running kernel's IPC links to the other kernels of its cluster ({@link LinkConfig}): Netty
 * channels on the kernel's core event loop itself, so frames go from the IPC core to the socket
 * and back without a hand-off between threads (the link's encoding, decoding and TLS run on the
 * core thread: the price of those two hand-offs per frame, which an RPC between kernels paid
 * four times).
 *
 * <pre>
 *  start: transport checked (mutual TLS with the kernel's files, or plaintext on loopback only
 *         unless --plaintext) -> listen  (before the pager session: a kernel that cannot listen stops)
 *  join:  the first session's IPC core gets the links; they dial the other kernels
 *  leave: the session is lost, its tasks and their ports are gone: the links close, and the other
 *         kernels see this IPC id die (dead names); nothing reaches a core until the next session
 *  join of a later session: the links take its core, with an IPC session one higher, and dial the
 *         other kernels again, which take the kernel back (its new ports work across kernels)
 *  renewed: the links declared this kernel dead while it lived on (IpcLinks "renew"): the same
 *         core takes the next IPC session and forgets its uids of the earlier one; tasks stay
 * </pre>
 *
 * A task handle in an insert from another kernel ({@code MachPortInsertRemote}) is translated here,
 * in the network layer, as every gRPC request's: the core only ever sees its own task numbers.
 */
final class KernelLinks implements AutoCloseable {
    private final LinkConfig config;
    private final TaskHandles handles;
    private final IpcLinks links;
    private final InetSocketAddress bound;
    /** The session core the links feed; null before join and after leave. Core thread. */
    private KernelCore joined;

    private KernelLinks(LinkConfig config, TaskHandles handles, LinkTls tls, EventLoop core, String who)
            throws IOException {
        this.config = config;
        this.handles = handles;
        this.links = new IpcLinks(config.id(), config.leaseMillis(), core, core, new LinkListener() {
            @Override
            public void frame(int from, int session, LinkFrame frame) {
                if (joined != null) {
                    joined.ipcCore().linkReceive(from, session, translated(frame));
                }
            }

            @Override
            public void kernelDied(int kernel) {
                if (joined != null) {
                    joined.ipcCore().kernelDied(kernel);
                }
            }

            @Override
            public void revived(int kernel, int session) {
                if (joined != null) {
                    joined.ipcCore().kernelRevived(kernel, session);
                }
            }

            @Override
            public void renewed() {
                if (joined != null) {
                    joined.ipcCore().attachNet(links.forSession());
                    joined.ipcCore().renewSession();
                }
            }
        }, tls);
        try {
            this.bound = links.listen(new InetSocketAddress(config.listen().getHostString(), config.listen().getPort()));
        } catch (Exception e) {
            links.close();
            throw new IOException(who + ": cannot listen for IPC links on " + config.listen().getHostString() + ":"
                    + config.listen().getPort() + ": " + io.machxp.proto.transport.SocketErrors.rootMessage(e) + "; choose another --ipc-listen port", e);
        }
    }

    /** Checks the transport for every link, then listens; {@code core}, the loop of the IPC core, carries the links. */
    static KernelLinks start(LinkConfig config, Transport transport, TaskHandles handles, EventLoop core, String who)
            throws IOException {
        LinkTls tls = transport.isTls() ? LinkTls.of(transport.tls()) : null;
        if (tls == null && !transport.plaintextAnywhere()) {
            requireLoopback(config.listen(), who + " would listen for IPC links on");
            config.peers().values().forEach(a -> requireLoopback(a, who + " would link to"));
        }
        return new KernelLinks(config, handles, tls, core, who);
    }

    private static void requireLoopback(InetSocketAddress a, String what) {
        if (!Transport.isLoopbackHost(a.getHostString())) {
            throw new TransportException(what + " " + a.getHostString() + ":" + a.getPort() + " without TLS, which is"
                    + " allowed only on loopback: give --tls-cert, --tls-key and --tls-ca (machxp certs DIR makes them),"
                    + " or --plaintext");
        }
    }

    /** Core thread: the session's IPC core takes the links, which dial the other kernels. */
    void join(KernelCore core, long firstContactMillis) {
        joined = core;
        links.matchPagerLease(core.pagerLeaseMillis()); // before the hellos, which name it
        core.ipcCore().attachNet(links.forSession());
        links.connect(config.directory(bound), firstContactMillis);
    }

    /** Core thread: a later session's IPC core takes the links (after {@link #leave}), which dial the others again. */
    void rejoin(KernelCore core) {
        joined = core;
        links.matchPagerLease(core.pagerLeaseMillis()); // the new session's welcome may give another
        links.rejoin(); // the session number goes up first: the core's view is of the new session
        core.ipcCore().attachNet(links.forSession());
    }

    /** Core thread: links to more kernels ({@code peers} by IPC id, for kernels that listened on any free port). */
    void connect(java.util.Map<Integer, InetSocketAddress> peers, long firstContactMillis) {
        java.util.Map<Integer, InetSocketAddress> all = new java.util.TreeMap<>(config.peers());
        all.putAll(peers);
        all.remove(config.id());
        links.connect(new LinkConfig(config.id(), config.listen(), all, config.leaseMillis()).directory(bound),
                firstContactMillis);
    }

    /** The links' lease now (ms). */
    long leaseMillis() {
        return links.leaseMillis();
    }

    /** Where the links listen. */
    InetSocketAddress bound() {
        return bound;
    }

    /** Core thread: the session is over; the other kernels see this IPC id die. */
    void leave() {
        joined = null;
        links.leave();
    }

    /** A task handle in an insert becomes the core's task number (0, no task, if unknown or of another session). */
    private LinkFrame translated(LinkFrame f) {
        if (!f.hasInsert() || !f.getInsert().getTaskIsHandle()) {
            return f;
        }
        TaskHandles.Ref ref = handles.ref(f.getInsert().getTask());
        long task = ref != null && ref.core() == joined ? ref.id() : 0;
        return f.toBuilder().setInsert(f.getInsert().toBuilder().setTask(task).setTaskIsHandle(false)).build();
    }

    int id() {
        return config.id();
    }

    /** Frames dropped at the hop bound ({@link IpcLinks#hopBoundDrops}). */
    long hopBoundDrops() {
        return links.hopBoundDrops();
    }

    /** Where the links listen, "host:port". */
    String address() {
        return bound.getHostString() + ":" + bound.getPort();
    }

    @Override
    public void close() {
        links.close(); // the loop is the kernel's: it stops with the kernel
    }
}
