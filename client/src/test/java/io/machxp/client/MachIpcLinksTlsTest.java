package io.machxp.client;

import static io.machxp.client.LinkedKernels.ipcAddress;
import static io.machxp.client.LinkedKernels.typeOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.machxp.cli.Machxp;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgItem;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.PortRight;
import io.machxp.kernel.ipc.link.LinkConfig;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.link.LinkFrame;
import io.machxp.proto.link.LinkHello;
import io.machxp.proto.transport.TlsFiles;
import io.machxp.proto.transport.Transport;
import io.machxp.proto.transport.TransportException;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Mach IPC between two kernels over their Netty links with mutual TLS, on real sockets: a pager
 * and kernels A (IPC id 1) and B (2) in this JVM, every connection with certificates from
 * {@code machxp certs}, tasks reached over gRPC. A message and a port right cross from B to A and
 * back; a connection to a link without a client certificate, or with a certificate that is not a
 * kernel's, is refused and the links go on working; plaintext links off loopback are refused at
 * start.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MachIpcLinksTlsTest {
    private static final int SERVICE = 0x700;

    @TempDir
    static Path tmp;
    static Path certs;
    static Pager pager;
    static Kernel a;
    static Kernel b;
    static KernelClient onA;
    static KernelClient onB;

    @BeforeAll
    static void start() throws IOException {
        certs = tmp.resolve("certs");
        StringWriter out = new StringWriter();
        CommandLine cl = Machxp.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(out));
        assertThat(cl.execute("certs", certs.toString())).as(out.toString()).isZero();
        pager = Pager.start(PagerConfig.loopback(Map.of("shared", 1L << 20))
                .withTransport(Transport.mutualTls(TlsFiles.inDirectory(certs, "pager"))));
        a = kernel("A", 1);
        b = kernel("B", 2);
        a.ipcConnect(Map.of(2, ipcAddress(b)));
        b.ipcConnect(Map.of(1, ipcAddress(a)));
        TlsFiles client = TlsFiles.inDirectory(certs, "client");
        onA = KernelClient.connect("127.0.0.1:" + a.port(), client);
        onB = KernelClient.connect("127.0.0.1:" + b.port(), client);
    }

    private static Kernel kernel(String name, int ipcId) throws IOException {
        return Kernel.start(KernelConfig.loopback(name, pager.target())
                .withTransport(Transport.mutualTls(TlsFiles.inDirectory(certs, "kernel")))
                .withIpc(new LinkConfig(ipcId, new InetSocketAddress("127.0.0.1", 0), Map.of(), 5_000)));
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {onA, onB, b, a, pager}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** A send right to a new service port of a task on A, inserted into a new task on B under SERVICE. */
    private record Service(TaskClient server, int port, TaskClient client) {}

    private static Service service(String name) {
        TaskClient server = onA.taskCreate(name + "-server");
        int port = server.machPortAllocate(PortRight.RECEIVE);
        TaskClient client = onB.taskCreate(name + "-client");
        server.machPortInsertRemote(port, MsgType.MAKE_SEND, client, SERVICE);
        await().atMost(Duration.ofSeconds(20)).until(() -> typeOf(client, SERVICE) == PortRight.SEND.typeBit());
        return new Service(server, port, client);
    }

    @Test
    void aMessageAndARightCrossKernelsOverMutualTls() {
        assertThat(onA.statistics().getIpcKernel()).isEqualTo(1);
        assertThat(onB.statistics().getIpcKernel()).isEqualTo(2);
        Service s = service("rpc");
        ThreadClient serverThread = s.server().threadCreate();
        ThreadClient clientThread = s.client().threadCreate();
        int reply = s.client().machPortAllocate(PortRight.RECEIVE);
        int callback = s.client().machPortAllocate(PortRight.RECEIVE);

        // B -> A: a request carrying data and a send right to B's callback port, and a reply right
        MsgReturn sent = clientThread.machMsg(MachMessage.to(SERVICE, MsgType.COPY_SEND, 7)
                .withReply(reply, MsgType.MAKE_SEND_ONCE)
                .withBody(MachMessage.int32(41), new MsgItem.Port(callback, MsgType.MAKE_SEND)),
                Mach.MACH_SEND_MSG, 0, 0, 0);
        assertThat(sent.code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        MsgReturn request = serverThread.machMsg(null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, 1 << 16, s.port(), 20_000);
        assertThat(request.code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(request.message().id()).isEqualTo(7);
        assertThat(request.message().intItem(0)).isEqualTo(41);
        MsgItem.Port right = (MsgItem.Port) request.message().body().get(1);
        assertThat(right.type()).as("the right arrived as a send right in A's task").isEqualTo(MsgType.PORT_SEND);
        assertThat(s.server().machPortType(right.name())).isEqualTo(PortRight.SEND.typeBit());

        // A -> B through the carried right, then the reply through the send-once right
        assertThat(serverThread.machMsg(MachMessage.to(right.name(), MsgType.MOVE_SEND, 8)
                .withBody(MachMessage.int32(42)), Mach.MACH_SEND_MSG, 0, 0, 0).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(serverThread.machMsg(MachMessage.to(request.message().remotePort(), MsgType.MOVE_SEND_ONCE, 9)
                .withBody(MachMessage.int32(43)), Mach.MACH_SEND_MSG, 0, 0, 0).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        MsgReturn viaRight = clientThread.machMsg(null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, 1 << 16, callback, 20_000);
        assertThat(viaRight.message().id()).isEqualTo(8);
        assertThat(viaRight.message().intItem(0)).isEqualTo(42);
        MsgReturn answer = clientThread.machMsg(null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, 1 << 16, reply, 20_000);
        assertThat(answer.message().id()).isEqualTo(9);
        assertThat(answer.message().intItem(0)).isEqualTo(43);
    }

    @Test
    void aStreamedReceiveGetsEachMessageAndEndsWithThePortsDeath() {
        Service s = service("stream");
        ThreadClient clientThread = s.client().threadCreate();
        for (int i = 0; i < 3; i++) {
            assertThat(clientThread.machMsg(MachMessage.to(SERVICE, MsgType.COPY_SEND, 100 + i), Mach.MACH_SEND_MSG, 0, 0, 0)
                    .code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        }
        var received = s.server().threadCreate().machMsgReceive(s.port(), 1 << 16, 20_000);
        for (int i = 0; i < 3; i++) {
            assertThat(received.next().message().id()).isEqualTo(100 + i);
        }
        s.server().machPortDestroy(s.port());
        MsgReturn last = received.next();
        assertThat(last.code()).as("the stream ends with the receive the port's death ended").isEqualTo(KernReturn.MACH_RCV_PORT_DIED);
        assertThat(received.hasNext()).isFalse();
        await().atMost(Duration.ofSeconds(20)).until(() -> typeOf(s.client(), SERVICE) == PortRight.DEAD_NAME.typeBit());
    }

    /** An SSL socket to A's links with {@code files}' certificate, or none (null); trusts the CA. */
    private static SSLSocket dialA(TlsFiles files) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        TlsFiles trust = TlsFiles.inDirectory(certs, "client");
        ctx.init(files == null ? null : files.keyManagers(), trust.trustManagers(), null);
        InetSocketAddress at = ipcAddress(a);
        SSLSocket socket = (SSLSocket) ctx.getSocketFactory().createSocket(at.getHostString(), at.getPort());
        socket.setSoTimeout(20_000);
        return socket;
    }

    /** Sends a hello as kernel 99 and reads until the link closes the connection: true if it did. */
    private static boolean closedAfterHello(SSLSocket socket) throws IOException {
        try (socket) {
            byte[] hello = LinkFrame.newBuilder().setHello(LinkHello.newBuilder().setKernel(99).setLeaseMillis(5_000))
                    .build().toByteArray();
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(hello.length);
            out.write(hello);
            out.flush();
            InputStream in = socket.getInputStream();
            return in.read() < 0;
        } catch (SSLException | java.net.SocketException e) {
            return true; // the handshake or the connection was refused
        }
    }

    @Test
    void aLinkWithoutAKernelsCertificateIsRefusedAndTheLinksGoOn() throws Exception {
        assertThat(closedAfterHello(dialA(null))).as("no client certificate").isTrue();
        assertThat(closedAfterHello(dialA(TlsFiles.inDirectory(certs, "client")))).as("a client's certificate").isTrue();
        aMessageAndARightCrossKernelsOverMutualTls();
    }

    @Test
    void plaintextLinksOffLoopbackAreRefusedAtStart() {
        KernelConfig config = KernelConfig.loopback("C", pager.target()).withIpc(LinkConfig.parse(3, "127.0.0.1:0",
                List.of("1=192.0.2.1:7401")));
        assertThatThrownBy(() -> Kernel.start(config)).isInstanceOf(TransportException.class)
                .hasMessageContaining("would link to 192.0.2.1:7401 without TLS");
    }
}
