package io.machxp.examples.filepager;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.machxp.pager.Pager;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The file pager over real gRPC, with the test as the kernel: a page is the file's bytes, a page
 * given back dirty is written into the file, and a read-only file refuses write access.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FilePagerTest {
    private static final int PAGE = 4096;
    private static final int OBJ = 3;

    @TempDir
    Path dir;

    private Pager pager;
    private ManagedChannel channel;
    private final BlockingQueue<PagerToKernel> inbox = new LinkedBlockingQueue<>();
    private StreamObserver<KernelToPager> out;

    @AfterEach
    void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow();
            channel.awaitTermination(5, TimeUnit.SECONDS);
        }
        if (pager != null) {
            pager.close();
        }
    }

    /** Starts the pager on {@code file} and connects to it as kernel K with "shared" as object OBJ. */
    private void connect(Path file, String... more) throws Exception {
        FilePager command = new FilePager();
        String[] args = {"--file", file.toString(), "--port", "0", "--lease-ms", "0", "--fresh"};
        new CommandLine(command).parseArgs(concat(args, more));
        pager = command.start();
        channel = NettyChannelBuilder.forTarget(pager.target()).usePlaintext().build();
        out = MemoryObjectPagerGrpc.newStub(channel).connect(new StreamObserver<>() {
            @Override
            public void onNext(PagerToKernel m) {
                inbox.add(m);
            }

            @Override
            public void onError(Throwable t) {
                inbox.add(PagerToKernel.getDefaultInstance()); // an empty message: the stream ended
            }

            @Override
            public void onCompleted() {
                inbox.add(PagerToKernel.getDefaultInstance());
            }
        });
        send(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("K").setProtocolVersion(1)));
        assertThat(next().hasPagerWelcome()).isTrue();
        send(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(OBJ)
                .setName("shared").setPageSize(PAGE)));
        assertThat(next().hasMemoryObjectReady()).isTrue();
    }

    private void send(KernelToPager.Builder m) {
        out.onNext(m.build());
    }

    private PagerToKernel next() throws InterruptedException {
        PagerToKernel m = inbox.poll(30, TimeUnit.SECONDS);
        assertThat(m).as("a message from the pager within 30 s").isNotNull();
        return m;
    }

    private void request(long offset, VmProt access) {
        send(KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(OBJ).setOffset(offset).setLength(PAGE).setDesiredAccess(access)));
    }

    private static byte[] filled(int b) {
        byte[] page = new byte[PAGE];
        Arrays.fill(page, (byte) b);
        return page;
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void aPageIsTheFilesBytesAndAPageGivenBackDirtyIsWrittenIntoTheFile() throws Exception {
        Path file = dir.resolve("object.bin");
        byte[] start = filled(1);
        Files.write(file, Arrays.copyOf(start, PAGE + 10)); // page 1 is 10 bytes of zeros, then past the end
        connect(file);

        request(0, VmProt.VM_PROT_READ);
        PagerToKernel first = next();
        assertThat(first.getMemoryObjectDataSupply().getData().toByteArray()).isEqualTo(start);
        assertThat(first.getMemoryObjectDataSupply().getLockValue()).isEqualTo(VmProt.VM_PROT_WRITE);

        request(2 * PAGE, VmProt.VM_PROT_READ_WRITE);
        assertThat(next().hasMemoryObjectDataUnavailable()).as("past the end of the file: zeros").isTrue();
        send(KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(OBJ).setOffset(2 * PAGE).setData(ByteString.copyFrom(filled(9))).setDirty(true)));
        send(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(1)));
        assertThat(next().getPagerKeepalive().getSequence()).as("answered after the return before it").isEqualTo(1);

        byte[] bytes = Files.readAllBytes(file);
        assertThat(bytes).hasSize(3 * PAGE);
        assertThat(Arrays.copyOfRange(bytes, 2 * PAGE, 3 * PAGE)).isEqualTo(filled(9));
        assertThat(Arrays.copyOfRange(bytes, 0, PAGE)).isEqualTo(start);
    }

    @Test
    void aReadOnlyFileIsReadButEveryWriteAccessIsRefusedWithDataError() throws Exception {
        Path file = dir.resolve("read-only.bin");
        Files.write(file, filled(4));
        connect(file, "--read-only");

        request(0, VmProt.VM_PROT_READ_WRITE);
        PagerToKernel refused = next();
        assertThat(refused.hasMemoryObjectDataError()).as("%s", refused).isTrue();
        assertThat(refused.getMemoryObjectDataError().getReason()).contains("read-only");

        request(0, VmProt.VM_PROT_READ);
        assertThat(next().getMemoryObjectDataSupply().getData().toByteArray()).isEqualTo(filled(4));
        assertThat(Files.readAllBytes(file)).isEqualTo(filled(4));
    }
}
