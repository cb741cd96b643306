package io.machxp.kernel.ipc.link;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgItem;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.PortRight;
import io.machxp.proto.link.LinkFrame;
import io.machxp.proto.link.LinkInsertRight;
import io.machxp.proto.link.LinkRight;
import io.machxp.proto.link.PortDied;
import io.machxp.proto.link.PortUid;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.DataInputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * An outside party's probe of the kernel-to-kernel links, written from ipc_link.proto and
 * docs/mach-ipc.md alone: a rogue (raw socket, hand-made frames) claims IPC id 3 of a cluster of
 * two real linked IPC cores (1 and 2) and misbehaves. For each misbehaviour: kernel 1 refuses
 * clearly (a log line naming the reason), drops only the rogue's connection, and its honest link
 * with kernel 2 goes on (a message from 2 still reaches a task of 1). Waits are on conditions
 * (a closed socket, a log line, an answer), never sleeps.
 */
class LinkProbeTest {
    private static final long LEASE_MS = 2_000;
    private static final int ROGUE = 3;
    private static final int NAME = 0x500;
    private EventLoopGroup group;
    private LinkedCore k1;
    private LinkedCore k2;
    /** Where the rogue "listens" as kernel 3: the honest kernels dial it; nothing reads unless a test does. */
    private ServerSocket rogueListener;
    private final List<RogueLink> rogues = new CopyOnWriteArrayList<>();
    private final List<Socket> dialledToRogue = new CopyOnWriteArrayList<>();
    private final List<String> logged = new CopyOnWriteArrayList<>();
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent e) {
            logged.add(e.getFormattedMessage());
        }
    };
    private Level levelBefore;
    /** Kernel 1's port that kernel 2 holds a send right to (under NAME in its task). */
    private int service;
    private int calls;

    @BeforeEach
    void start() throws Exception {
        var logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(IpcLinks.class);
        levelBefore = logger.getLevel();
        logger.setLevel(Level.INFO);
        appender.start();
        logger.addAppender(appender);
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        k1 = new LinkedCore(1, group, LEASE_MS);
        k2 = new LinkedCore(2, group, LEASE_MS);
        rogueListener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        KernelDirectory directory = new KernelDirectory(Map.of(1, k1.address, 2, k2.address, ROGUE,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), rogueListener.getLocalPort())));
        k1.links.connect(directory);
        k2.links.connect(directory);
        service = k1.call(c -> c.machPortAllocate(1, PortRight.RECEIVE.value).orThrow("allocate"));
        k1.call(c -> c.machPortSetQlimit(1, service, Mach.MACH_PORT_QLIMIT_MAX));
        KernReturn given = k1.call(c -> c.machPortInsertRemote(1, service, MsgType.MAKE_SEND, 2, 2, NAME));
        assertThat(given).isEqualTo(KernReturn.KERN_SUCCESS);
        await(() -> k2.call(c -> c.machPortType(2, NAME).code()) == KernReturn.KERN_SUCCESS);
        assertHonestLinkWorks();
    }

    @AfterEach
    void stop() throws Exception {
        rogues.forEach(RogueLink::close);
        for (Socket s : dialledToRogue) {
            s.close();
        }
        rogueListener.close();
        k1.close();
        k2.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        var logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(IpcLinks.class);
        logger.detachAppender(appender);
        logger.setLevel(levelBefore);
    }

    private RogueLink rogue() {
        return rogue(k1);
    }

    private RogueLink rogue(LinkedCore to) {
        RogueLink r = new RogueLink(to.address);
        rogues.add(r);
        return r;
    }

    /** Kernel 2's task sends to kernel 1's task across the honest link, and it arrives. */
    private void assertHonestLinkWorks() {
        int id = 1000 + calls++;
        MsgReturn sent = get(k2.msg(200, MachMessage.to(NAME, MsgType.COPY_SEND, id).withBody(MachMessage.int32(id)),
                Mach.MACH_SEND_MSG, 0));
        assertThat(sent.code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        MsgReturn got = get(k1.msg(100, null, Mach.MACH_RCV_MSG, service));
        assertThat(got.code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(got.message().id()).isEqualTo(id);
        assertThat(k1.links.dead(2)).as("kernel 2 alive for kernel 1").isFalse();
        assertThat(k2.links.dead(1)).as("kernel 1 alive for kernel 2").isFalse();
    }

    /** The rogue's connection was closed by kernel 1 with a log line containing {@code reason}; the honest link goes on. */
    private void assertRefused(RogueLink r, String reason) {
        assertThat(r.closedByKernel()).as("kernel 1 closed the rogue's connection").isTrue();
        awaitLogged(reason);
        assertHonestLinkWorks();
    }

    private void awaitLogged(String fragment) {
        await(() -> logged.stream().anyMatch(m -> m.contains(fragment)));
    }

    /**
     * Until {@code condition} holds, within 30 s (generous: two loaded cores). Polled every 10 ms,
     * not spun: a spinning test thread would contend for the locks its condition takes (the core's,
     * the links') with the loops that must make it true.
     */
    private static void await(java.util.function.BooleanSupplier condition) {
        org.awaitility.Awaitility.await().atMost(30, TimeUnit.SECONDS).pollInterval(java.time.Duration.ofMillis(10))
                .until(condition::getAsBoolean);
    }

    private static MsgReturn get(CompletableFuture<MsgReturn> f) {
        return f.orTimeout(30, TimeUnit.SECONDS).join(); // generous: two loaded cores
    }

    private static PortUid uid(int origin, long id) {
        return PortUid.newBuilder().setOrigin(origin).setId(id).build();
    }

    // ---- before the hello ---------------------------------------------------------------------

    @Test
    void aLengthPrefixOfAHugeFrameBeforeTheHelloIsRefusedAtOnce() {
        RogueLink r = rogue().bytes(RogueLink.length(LinkPipeline.MAX_FRAME - 1));
        assertRefused(r, "over the limit of " + LinkFrames.MAX_HELLO + " before the hello");
    }

    @Test
    void aLengthPrefixOverTheFrameLimitIsRefused() {
        assertRefused(rogue().bytes(RogueLink.length(Integer.MAX_VALUE)), "over the limit");
    }

    @Test
    void aNegativeLengthPrefixIsRefused() {
        assertRefused(rogue().bytes(RogueLink.length(-5)), "not a length-prefixed LinkFrame");
    }

    @Test
    void aZeroLengthFrameIsNotAHello() {
        assertRefused(rogue().bytes(RogueLink.length(0)), "its first frame is not a LinkHello (BODY_NOT_SET)");
    }

    @Test
    void garbageBytesAreRefused() {
        byte[] junk = new byte[16];
        java.util.Arrays.fill(junk, (byte) 0xff);
        assertRefused(rogue().bytes(RogueLink.length(junk.length), junk), "not a length-prefixed LinkFrame");
    }

    @Test
    void aFirstFrameThatIsNotAHelloIsRefused() {
        assertRefused(rogue().keepalive(), "its first frame is not a LinkHello (KEEPALIVE)");
    }

    @Test
    void aTruncatedFrameThenEndOfStreamClosesOnlyThatConnection() throws Exception {
        RogueLink r = rogue().bytes(RogueLink.length(100), new byte[10]);
        r.socket.shutdownOutput();
        assertThat(r.closedByKernel()).isTrue();
        assertHonestLinkWorks();
    }

    /**
     * A connection that drips the bytes of a frame it never finishes, never saying hello: the
     * hello deadline counts from the connection (before, each byte restarted the lease of
     * silence, so it held its connection and buffer forever).
     */
    @Test
    void aConnectionThatDripsBytesWithoutEverSayingHelloIsClosedAtTheHelloDeadline() {
        RogueLink r = rogue().bytes(RogueLink.length(LinkFrames.MAX_HELLO));
        boolean closed = false;
        for (int i = 0; i < 20 * 8 && !closed; i++) { // twenty leases at most
            r.bytes(new byte[] {0});
            closed = r.closedWithin((int) (LEASE_MS / 8)); // one byte per eighth of a lease, until closed
        }
        assertThat(closed).as("closed within twenty leases").isTrue();
        awaitLogged("no hello within " + LEASE_MS + " ms of connecting");
        assertHonestLinkWorks();
    }

    // ---- hellos -------------------------------------------------------------------------------

    @Test
    void aHelloClaimingIpcIdZeroIsRefused() {
        assertRefused(rogue().hello(0, 1, 0), "IPC ids are 1 or more");
    }

    @Test
    void aHelloClaimingTheKernelsOwnIdIsRefused() {
        assertRefused(rogue().hello(1, 1, 0), "this kernel's own");
    }

    /** Before: a hello with kernel 2's id and another incarnation declared the live kernel 2 dead. */
    @Test
    void aHelloClaimingALiveKernelsIdIsRefusedAndThatKernelLivesOn() {
        assertRefused(rogue().hello(2, 12345, 0), "is open and alive");
        assertThat(k1.links.dead(2)).isFalse();
    }

    @Test
    void aSecondHelloOnALinkEndsIt() {
        RogueLink r = rogue().hello(ROGUE, 7, 0);
        r.next(LinkFrame.newBuilder().setHello(io.machxp.proto.link.LinkHello.newBuilder().setKernel(ROGUE)
                .setIncarnation(7)));
        assertRefused(r, "a second LinkHello on its link");
        assertThat(k1.links.dead(ROGUE)).isTrue();
    }

    @Test
    void aKernelDeclaredDeadCannotComeBackWithTheSameSession() {
        RogueLink first = rogue().hello(ROGUE, 7, 0);
        first.raw(LinkFrame.newBuilder().setSeq(5).build());
        assertRefused(first, "frame 5 after 0: the link lost frames");
        assertRefused(rogue().hello(ROGUE, 7, 0), "is dead here");
    }

    /**
     * The receiving end waits for the silence its hello names (lease_millis), not its own lease: a
     * kernel with a longer lease sends its keepalives further apart. 0 is the receiver's own lease;
     * a lease far above the receiver's is taken at ten times its own at most.
     */
    @Test
    void aLinkMayBeSilentForTheLeaseItsHelloNames() {
        long own = LEASE_MS;
        long[][] cases = {{own * 3, own * 3}, {own / 2, own / 2}, {0, own}, {Long.MAX_VALUE, own * 10}};
        for (int i = 0; i < cases.length; i++) {
            int kernel = 10 + i; // a kernel of its own each time: one whose link closed is dead here
            long named = cases[i][0];
            long expected = cases[i][1];
            rogue().hello(kernel, 7, 0, named).keepalive(); // the keepalive comes after the hello is taken
            await(() -> silence(kernel) == expected);
            assertThat(silence(kernel)).as("hello lease %d", named).isEqualTo(expected);
        }
    }

    /** How long kernel 1 lets the link of {@code kernel} be silent now (-1: no link yet). */
    private long silence(int kernel) {
        Channel in = k1.links.admissions.inbound(kernel);
        IdleStateHandler idle = in == null ? null : in.pipeline().get(IdleStateHandler.class);
        return idle == null ? -1 : idle.getReaderIdleTimeInMillis();
    }

    @Test
    void seqNumbersThatRepeatEndTheLink() {
        RogueLink r = rogue().hello(ROGUE, 7, 0).keepalive();
        r.raw(LinkFrame.newBuilder().setSeq(1).build());
        assertRefused(r, "frame 1 after 1");
        assertThat(k1.links.dead(ROGUE)).isTrue();
    }

    // ---- frames of an admitted peer -------------------------------------------------------------

    /** Learns the uid kernel 1 gives {@code service} by having 1 insert a right to it into the rogue's "task". */
    private PortUid uidOfService() throws Exception {
        Socket dialled = accepted();
        DataInputStream in = new DataInputStream(dialled.getInputStream());
        if (RogueLink.read(in).getHello().getKernel() != 1) { // kernel 2 dialled first: take the next
            dialled = accepted();
            in = new DataInputStream(dialled.getInputStream());
            RogueLink.read(in);
        }
        KernReturn given = k1.call(c -> c.machPortInsertRemote(1, service, MsgType.MAKE_SEND, ROGUE, 9, 0x700));
        assertThat(given).isEqualTo(KernReturn.KERN_SUCCESS);
        for (LinkFrame f = RogueLink.read(in); ; f = RogueLink.read(in)) {
            if (f.hasInsert()) {
                return f.getInsert().getRight().getPort();
            }
        }
    }

    /** A connection an honest kernel dialled to the rogue, kept open until the end (closing it would make the rogue dead). */
    private Socket accepted() throws Exception {
        rogueListener.setSoTimeout(15_000);
        Socket s = rogueListener.accept();
        s.setSoTimeout(15_000);
        dialledToRogue.add(s);
        return s;
    }

    @Test
    void portDiedForAPortWhoseReceiveRightIsOnTheKernelDoesNotKillIt() throws Exception {
        PortUid own = uidOfService();
        RogueLink r = rogue().hello(ROGUE, 7, 0);
        r.next(LinkFrame.newBuilder().setPortDied(PortDied.newBuilder().setPort(own)));
        r.next(LinkFrame.newBuilder().setPortDied(PortDied.newBuilder().setPort(own).setVia(ROGUE)));
        r.next(LinkFrame.newBuilder().setMessage(io.machxp.proto.link.LinkMessage.newBuilder()
                .setDest(LinkRight.newBuilder().setPort(own).setType(MsgType.PORT_SEND.value).setReceiverKernel(1)
                        .setRegisteredByReceiver(true))
                .setId(4242)));
        MsgReturn got = get(k1.msg(100, null, Mach.MACH_RCV_MSG, service)); // after the PortDieds, same link
        assertThat(got.code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(got.message().id()).isEqualTo(4242);
        assertThat(k1.links.dead(ROGUE)).as("PortDied is a frame a peer may send: its link stays").isFalse();
        assertHonestLinkWorks();
    }

    @Test
    void aMessageToAPortThatNeverExistedIsDestroyedAndTheSenderToldItIsDead() throws Exception {
        Socket dialled = accepted();
        Socket second = accepted();
        RogueLink r = rogue().hello(ROGUE, 7, 0);
        PortUid never = uid(1, 1L << 40);
        r.next(LinkFrame.newBuilder().setMessage(io.machxp.proto.link.LinkMessage.newBuilder()
                .setDest(LinkRight.newBuilder().setPort(never).setType(MsgType.PORT_SEND.value).setReceiverKernel(1))
                .setId(77)));
        DataInputStream in = new DataInputStream(dialledBy(1, dialled, second).getInputStream());
        LinkFrame f = RogueLink.read(in);
        while (!f.hasPortDied()) {
            f = RogueLink.read(in);
        }
        assertThat(f.getPortDied().getPort()).isEqualTo(never);
        assertThat(k1.links.dead(ROGUE)).isFalse();
        assertHonestLinkWorks();
    }

    /** Which of two connections dialled to the rogue is kernel {@code k}'s (read from their hellos). */
    private static Socket dialledBy(int k, Socket a, Socket b) throws Exception {
        DataInputStream in = new DataInputStream(a.getInputStream());
        if (RogueLink.read(in).getHello().getKernel() == k) {
            return a;
        }
        RogueLink.read(new DataInputStream(b.getInputStream())); // its hello
        return b;
    }

    /**
     * A right of a type ipc_link.proto does not have: before, the core took it as a right of type
     * null and failed half-way through the frame on its own thread (the rest of the read lost,
     * nothing logged that named the peer); now the link ends, naming the rule.
     */
    @Test
    void aRightOfAnUnknownTypeEndsTheLinkBeforeTheCoreSeesIt() {
        RogueLink r = rogue().hello(ROGUE, 7, 0);
        r.next(LinkFrame.newBuilder().setMessage(io.machxp.proto.link.LinkMessage.newBuilder()
                .setDest(LinkRight.newBuilder().setPort(uid(1, 1L << 40)).setType(MsgType.PORT_SEND.value)
                        .setReceiverKernel(1))
                .addItems(io.machxp.proto.link.LinkItem.newBuilder().setRight(LinkRight.newBuilder()
                        .setPort(uid(ROGUE, 5)).setType(99).setReceiverKernel(ROGUE)))));
        assertRefused(r, "frame 1 breaks ipc_link.proto: LinkMessage item 0: a right of type 99");
        assertThat(k1.links.dead(ROGUE)).isTrue();
    }

    @Test
    void aReleaseOfANegativeCountEndsTheLink() {
        RogueLink r = rogue().hello(ROGUE, 7, 0);
        r.next(LinkFrame.newBuilder().setRelease(io.machxp.proto.link.RefRelease.newBuilder().setPort(uid(1, 1))
                .setFrom(ROGUE).setCount(-1_000_000)));
        assertRefused(r, "a count below 1 (-1000000)");
    }

    // ---- a loop of proxies -----------------------------------------------------------------------

    /**
     * The rogue gives kernel 1 a send right to its "port" 3.1 saying the receive right is on
     * kernel 2, and kernel 2 one saying it is on kernel 1 (both legitimate on their own). Before,
     * a message to it went between the two for ever (with a RefTransfer at each pass, each looping
     * too); now each frame is dropped at the hop bound - the message and the RefTransfer each of
     * its bound + 1 arrivals made - with one WARN per kernel, and the honest link goes on.
     */
    @Test
    void aMessageToProxiesThatPointAtEachOtherIsDroppedAtTheHopBound() {
        int looping = 0x700;
        PortUid uid = uid(ROGUE, 1);
        RogueLink to1 = rogue(k1).hello(ROGUE, 7, 0);
        RogueLink to2 = rogue(k2).hello(ROGUE, 7, 0);
        to1.next(LinkFrame.newBuilder().setInsert(LinkInsertRight.newBuilder().setTask(1).setName(looping)
                .setRight(LinkRight.newBuilder().setPort(uid).setType(MsgType.PORT_SEND.value).setReceiverKernel(2))));
        to2.next(LinkFrame.newBuilder().setInsert(LinkInsertRight.newBuilder().setTask(2).setName(looping)
                .setRight(LinkRight.newBuilder().setPort(uid).setType(MsgType.PORT_SEND.value).setReceiverKernel(1))));
        await(() -> k1.call(c -> c.machPortType(1, looping).code()) == KernReturn.KERN_SUCCESS
                && k2.call(c -> c.machPortType(2, looping).code()) == KernReturn.KERN_SUCCESS);
        int type = k1.call(c -> c.machPortType(1, looping).orThrow("type"));
        assertThat(type).isEqualTo(PortRight.SEND.typeBit());
        MsgReturn sent = get(k1.msg(100, MachMessage.to(looping, MsgType.COPY_SEND, 5), Mach.MACH_SEND_MSG, 0));
        assertThat(sent.code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        long bound = Math.max(64, 2 * 3); // Hops.bound for a directory of three kernels
        long frames = 1 + (bound + 1); // the message, and one RefTransfer per arrival at a proxy
        await(() -> k1.links.hopBoundDrops() + k2.links.hopBoundDrops() == frames);
        awaitLogged("dropped a LinkMessage for port3.1 from kernel");
        assertHonestLinkWorks();
        assertThat(k1.links.hopBoundDrops() + k2.links.hopBoundDrops()).as("nothing went on looping").isEqualTo(frames);
        assertThat(logged.stream().filter(m -> m.contains("the hop bound"))).as("one WARN per kernel: rate-limited")
                .hasSizeBetween(1, 2);
        // The frames were well formed: neither kernel refused them. (The rogue says nothing while
        // the test waits, so on a loaded machine its links may end for silence, after a lease.)
        assertThat(logged.stream().filter(m -> m.contains("kernel " + ROGUE + " is dead for IPC")))
                .as("the rogue's links ended for no reason but silence").allMatch(m -> m.endsWith("silent for a lease"));
    }

    // ---- a peer that does not read -----------------------------------------------------------

    /**
     * The rogue puts a send right to "its" port into kernel 1's task, then never reads the link
     * kernel 1 dialled to it, while the task keeps sending: kernel 1 declares it dead once more
     * than the unread limit is queued (before: the link's outbound buffer grew without bound).
     */
    @Test
    void aKernelThatNeverReadsIsDeclaredDeadBeforeItsBufferGrowsWithoutBound() {
        int name = 0x600;
        k1.links.maxUnreadBytes(1 << 20);
        RogueLink r = rogue().hello(ROGUE, 7, 0);
        r.next(LinkFrame.newBuilder().setInsert(LinkInsertRight.newBuilder().setTask(1).setName(name)
                .setRight(LinkRight.newBuilder().setPort(uid(ROGUE, 1)).setType(MsgType.PORT_SEND.value)
                        .setReceiverKernel(ROGUE))));
        await(() -> k1.call(c -> c.machPortType(1, name).code()) == KernReturn.KERN_SUCCESS);
        byte[] payload = new byte[64 << 10];
        int sent = 0;
        for (; sent < 1024 && !k1.links.dead(ROGUE); sent++) { // 64 MiB at most
            r.keepalive(); // the rogue's own link stays alive: only the unread bytes can end it
            get(k1.msg(100, MachMessage.to(name, MsgType.COPY_SEND, 1).withBody(new MsgItem.Inline(payload)),
                    Mach.MACH_SEND_MSG, 0));
        }
        assertThat(k1.links.dead(ROGUE)).as("dead after %d messages of 64 KiB", sent).isTrue();
        awaitLogged("bytes unread on its link, over the limit of " + (1 << 20));
        // review F4: the kernel that stopped reading counts as the quiet one, so if it is alive
        // and probes, it is told 'silent' and renews, not the healthy side by a higher id
        synchronized (k1.links) {
            assertThat(k1.links.silentDeaths).as("declared dead as the quiet one").contains(ROGUE);
        }
        assertHonestLinkWorks();
    }
}
