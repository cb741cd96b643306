package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.cli.Machxp;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.core.CoreOptions;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.task.MachTaskGrpc;
import io.machxp.proto.task.TaskCreateRequest;
import io.machxp.proto.transport.TlsFiles;
import io.machxp.proto.transport.Transport;
import io.machxp.proto.transport.TransportException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A pager and a kernel with mutual TLS on loopback, with certificates from {@code machxp certs}: a
 * client with a certificate of their CA works; one without a certificate, or with a certificate of
 * another CA, is refused; unusable files are named.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MutualTlsOverGrpcTest {
    private static final String OBJECT = "shared";
    private static final long CALL_DEADLINE_SECONDS = 20;

    @TempDir
    static Path tmp;
    /** The CA of the pager and the kernel, and one they do not know. */
    static Path certs;
    static Path otherCerts;
    static Pager pager;
    static Kernel kernel;
    static String kernelTarget;

    @BeforeAll
    static void start() throws IOException {
        certs = tmp.resolve("certs");
        otherCerts = tmp.resolve("other");
        makeCerts(certs);
        makeCerts(otherCerts);
        pager = Pager.start(PagerConfig.loopback(Map.of(OBJECT, 1L << 20))
                .withTransport(Transport.mutualTls(TlsFiles.inDirectory(certs, "pager"))));
        kernel = Kernel.start(KernelConfig.loopback("A", pager.target())
                .withTransport(Transport.mutualTls(TlsFiles.inDirectory(certs, "kernel"))));
        kernelTarget = "127.0.0.1:" + kernel.port();
    }

    @AfterAll
    static void stop() {
        if (kernel != null) {
            kernel.close();
        }
        if (pager != null) {
            pager.close();
        }
    }

    private static void makeCerts(Path dir) {
        StringWriter out = new StringWriter();
        CommandLine cl = Machxp.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(out));
        assertThat(cl.execute("certs", dir.toString())).as(out.toString()).isZero();
    }

    /** A task_create over a channel with the given credentials; the status it failed with, or OK. */
    private static Status.Code taskCreateWith(ChannelCredentials credentials) {
        ManagedChannel channel = NettyChannelBuilder.forTarget(kernelTarget, credentials).build();
        try {
            MachTaskGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE_SECONDS, TimeUnit.SECONDS)
                    .taskCreate(TaskCreateRequest.newBuilder().setName("raw").build());
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        } finally {
            channel.shutdownNow();
        }
    }

    /** A client with the client certificate creates a task, locks and unlocks a futex, and reads the pager's counters. */
    @Test
    void aClientWithACertificateOfTheCaLocksAndUnlocksAFutex() {
        try (KernelClient client = KernelClient.connect(kernelTarget, TlsFiles.inDirectory(certs, "client"))) {
            TaskClient task = client.taskCreate("tls");
            long futex = task.vmMap(OBJECT) + 64;
            ThreadClient thread = task.threadCreate();
            thread.lockFutex(futex);
            assertThat(task.readInt(futex)).as("the futex word holds the owner's TID").isEqualTo(thread.tid());
            thread.unlockFutex(futex);
            assertThat(task.readInt(futex)).isZero();
        }
        try (KernelClient byName = KernelClient.connect("localhost:" + kernel.port(), TlsFiles.inDirectory(certs, "client"));
                PagerAdminClient admin = PagerAdminClient.connect(pager.target(), TlsFiles.inDirectory(certs, "client"))) {
            assertThat(byName.statistics().getKernelName()).as("the certificate names localhost too").isEqualTo("A");
            assertThat(admin.statistics().getKernelsConnected()).as("kernel A is connected to the pager over TLS").isEqualTo(1);
        }
    }

    /**
     * A client on another host reaches its tasks over gRPC only: forced here, over mutual TLS, the
     * same calls work and answer the same, and nothing is shared.
     */
    @Test
    void aClientForcedToGrpcWorksOverTls() {
        try (KernelClient client = KernelClient.connect(kernelTarget,
                io.machxp.proto.transport.Transport.mutualTls(TlsFiles.inDirectory(certs, "client")), null,
                KernelClient.Memory.GRPC_ONLY)) {
            TaskClient task = client.taskCreate("tls-grpc");
            assertThat(task.sharesMemory()).isFalse();
            long base = task.vmMap(OBJECT);
            ThreadClient thread = task.threadCreate();
            for (int i = 0; i < 3; i++) { // the first from the pager, the others the kernel's fast path, by gRPC
                thread.lockFutex(base + 128);
                task.writeLong(base + 1024, task.readLong(base + 1024) + 1);
                thread.unlockFutex(base + 128);
            }
            assertThat(task.readLong(base + 1024)).isEqualTo(3);
            assertThat(task.sharedAccesses()).isZero();
            MachxpException e = catchThrowableOfType(MachxpException.class, () -> thread.unlockFutex(base + 128));
            assertThat(e.errno()).as("the same error as through shared memory").isEqualTo(io.machxp.proto.task.Errno.EPERM);
        }
    }

    /** Plaintext, or TLS without a client certificate: the kernel refuses the connection. */
    @Test
    void aClientWithoutACertificateIsRefused() {
        try (KernelClient plaintext = KernelClient.connect(kernelTarget)) {
            MachxpException e = catchThrowableOfType(MachxpException.class, () -> plaintext.taskCreate("plain"));
            assertThat(e).as("a plaintext client must fail").isNotNull();
            assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
        }
        TlsFiles client = TlsFiles.inDirectory(certs, "client");
        ChannelCredentials trustOnly = TlsChannelCredentials.newBuilder().trustManager(client.trustManagers()).build();
        assertThat(taskCreateWith(trustOnly)).isEqualTo(Status.Code.UNAVAILABLE);
        // The same channel with the client's certificate goes through: the refusal was the missing certificate.
        ChannelCredentials withCertificate = TlsChannelCredentials.newBuilder()
                .keyManager(client.keyManagers()).trustManager(client.trustManagers()).build();
        assertThat(taskCreateWith(withCertificate)).isEqualTo(Status.Code.OK);
    }

    /** XP streams are for kernels: a client's certificate, signed by the same CA, cannot open one. */
    @Test
    void aClientCertificateCannotSpeakXpToThePager() throws InterruptedException {
        for (String role : new String[] {"client", "kernel"}) {
            TlsFiles files = TlsFiles.inDirectory(certs, role);
            ManagedChannel channel = NettyChannelBuilder.forTarget(pager.target(), TlsChannelCredentials.newBuilder()
                    .keyManager(files.keyManagers()).trustManager(files.trustManagers()).build()).build();
            java.util.concurrent.LinkedBlockingQueue<Object> got = new java.util.concurrent.LinkedBlockingQueue<>();
            try {
                var out = io.machxp.proto.xp.MemoryObjectPagerGrpc.newStub(channel).connect(
                        new io.grpc.stub.StreamObserver<io.machxp.proto.xp.PagerToKernel>() {
                            @Override
                            public void onNext(io.machxp.proto.xp.PagerToKernel m) {
                                got.add(m);
                            }

                            @Override
                            public void onError(Throwable t) {
                                got.add(t);
                            }

                            @Override
                            public void onCompleted() {
                                got.add("completed");
                            }
                        });
                out.onNext(io.machxp.proto.xp.KernelToPager.newBuilder().setKernelHello(
                        io.machxp.proto.xp.KernelHello.newBuilder().setKernelName("raw-" + role)
                                .setProtocolVersion(1)).build());
                Object first = got.poll(CALL_DEADLINE_SECONDS, TimeUnit.SECONDS);
                if (role.equals("client")) {
                    assertThat(first).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                        assertThat(e.getStatus().getDescription()).contains("XP streams are for kernels")
                                .contains("'machxp client'");
                    });
                } else {
                    assertThat(first).as("a kernel's certificate is welcome")
                            .isInstanceOfSatisfying(io.machxp.proto.xp.PagerToKernel.class,
                                    m -> assertThat(m.hasPagerWelcome()).isTrue());
                    out.onCompleted();
                }
            } finally {
                channel.shutdownNow();
            }
        }
        assertThat(pager.kernels()).doesNotContain("raw-client");
    }

    /** A certificate of another CA is refused by the kernel (and a kernel with one, by the pager). */
    @Test
    void aCertificateOfAnotherCaIsRefused() throws IOException {
        try (KernelClient stranger = KernelClient.connect(kernelTarget, TlsFiles.inDirectory(otherCerts, "client"))) {
            MachxpException e = catchThrowableOfType(MachxpException.class, () -> stranger.taskCreate("stranger"));
            assertThat(e).as("a client of another CA must fail").isNotNull();
            assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
        }
        // The client trusts the kernel's CA, so only the kernel can be the one refusing.
        ChannelCredentials strangerTrustingTheKernel = TlsChannelCredentials.newBuilder()
                .keyManager(TlsFiles.inDirectory(otherCerts, "client").keyManagers())
                .trustManager(TlsFiles.inDirectory(certs, "client").trustManagers()).build();
        assertThat(taskCreateWith(strangerTrustingTheKernel)).isEqualTo(Status.Code.UNAVAILABLE);

        KernelConfig strangerKernel = new KernelConfig("S", pager.target(), "127.0.0.1", 0, Duration.ofSeconds(20),
                CoreOptions.DEFAULT, Transport.mutualTls(TlsFiles.inDirectory(otherCerts, "kernel")));
        assertThatThrownBy(() -> Kernel.start(strangerKernel).close()).isInstanceOf(IOException.class)
                .hasMessageContaining("kernel S: cannot open a session with the pager");
        assertThat(pager.kernels()).containsExactly("A");
    }

    /** A key that is not the certificate's, or a file that is not there: one sentence naming the file, before connecting. */
    @Test
    void unusableFilesAreNamed() {
        Path wrongKey = certs.resolve("kernel.key");
        assertThatThrownBy(() -> KernelClient.connect(kernelTarget,
                new TlsFiles(certs.resolve("client.pem"), wrongKey, certs.resolve("ca.pem"))))
                .isInstanceOf(TransportException.class)
                .hasMessage("a client: the TLS key " + wrongKey + " does not belong to the certificate "
                        + certs.resolve("client.pem") + "; give the key that was written with that certificate");
        Path missing = certs.resolve("nobody.pem");
        assertThatThrownBy(() -> PagerAdminClient.connect(pager.target(),
                new TlsFiles(missing, certs.resolve("client.key"), certs.resolve("ca.pem"))))
                .isInstanceOf(TransportException.class)
                .hasMessageContaining(missing.toString()).hasMessageContaining("does not exist");
        assertThatThrownBy(() -> KernelClient.connect(kernelTarget,
                new TlsFiles(certs.resolve("client.pem"), certs.resolve("client.key"), otherCerts.resolve("ca.pem"))))
                .isInstanceOf(TransportException.class)
                .hasMessageContaining("is not signed by the CA in " + otherCerts.resolve("ca.pem"));
    }

    /** machxp demo --connect with the client's TLS files runs against the TLS kernel and pager. */
    @Test
    void theDemoConnectsWithTlsFiles() {
        StringWriter err = new StringWriter();
        CommandLine cl = Machxp.commandLine();
        cl.setErr(new PrintWriter(err));
        java.io.PrintStream stdout = System.out;
        int exit;
        try {
            System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
            exit = cl.execute("demo", "--connect", kernelTarget, "--pager", pager.target(), "--object", OBJECT,
                    "--threads", "2", "--ops", "20", "--json",
                    "--tls-cert", certs.resolve("client.pem").toString(), "--tls-key", certs.resolve("client.key").toString(),
                    "--tls-ca", certs.resolve("ca.pem").toString());
        } finally {
            System.setOut(stdout);
        }
        assertThat(exit).as(err.toString()).isZero();
        StringWriter err2 = new StringWriter();
        CommandLine plain = Machxp.commandLine();
        plain.setErr(new PrintWriter(err2));
        assertThat(plain.execute("demo", "--connect", kernelTarget, "--pager", pager.target(), "--object", OBJECT,
                "--ops", "1")).as("without the files the kernel refuses the demo").isNotZero();
    }
}
