package io.machxp.view;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.demo.Demo;
import io.machxp.demo.DemoHooks;
import io.machxp.demo.DemoOptions;
import io.machxp.demo.DemoReport;
import io.machxp.proto.threads.OwnThreads;
import io.machxp.proto.transport.Transport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The live view in a real browser: Debian's headless Chromium, driven by Selenium through
 * Debian's chromedriver, both given by path, so Selenium Manager is never asked for anything
 * (and is told to stay offline if it were). A demo runs with the view; the test waits until the
 * page shows a cross-kernel handoff, checks it, and saves the page as docs/images/view.png.
 * Beside the demo, a thread of priority 10 on kernel A holds a futex that a thread of priority 60
 * on kernel B waits for, so that the page shows a boost. Runs in the browser profile only
 * ({@code mvn -B -Pbrowser -pl client -am test}); with CI=true a missing browser fails it.
 * <p>
 * The demo's side and the browser's wait on each other, not on a clock: the demo starts its run
 * once the page is open and keeps its cluster (and the side futex's waiter) until the screenshot
 * is taken, and the browser's side lets it go on however it ends. On a starved JVM (a load of
 * 70-150) the cluster's start, the browser's and each page step can each take a minute or more:
 * only the page's own waits, and the class's timeout, bound them.
 */
@Tag("browser")
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class LiveViewBrowserTest {
    static final Path CHROMIUM = Path.of(System.getProperty("machxp.chromium", "/usr/bin/chromium"));
    static final Path CHROMEDRIVER = Path.of(System.getProperty("machxp.chromedriver", "/usr/bin/chromedriver"));
    static final Path SCREENSHOT = Path.of(System.getProperty("basedir", "client"), "..", "docs", "images", "view.png");
    private static final Duration WAIT = Duration.ofSeconds(90);
    /** The embedded demo's memory object; its futexes are at page starts, so +0x40 is free for the test's own. */
    private static final String DEMO_OBJECT = "demo";
    private static final long SIDE_FUTEX = 0x40;

    @Test
    void aCrossKernelHandoffInARunningDemoAppearsOnThePage() throws Exception {
        requireBrowser();
        CompletableFuture<String> url = new CompletableFuture<>();
        CountDownLatch pageOpen = new CountDownLatch(1);
        CountDownLatch shot = new CountDownLatch(1);
        SideThreads side = new SideThreads();
        CompletableFuture<DemoReport> demo = OwnThreads.supply("demo", () -> {
            try {
                return Demo.run(new DemoOptions(3, 4, 6, 400, 0.8, 42, true, false, List.of(), null, DEMO_OBJECT),
                        Transport.LOOPBACK_PLAINTEXT, new DemoHooks() {
                            private LiveView view;

                            @Override
                            public void beforeRun(String pager, List<String> kernels) throws IOException,
                                    InterruptedException {
                                view = LiveView.start(0, pager, kernels, Transport.LOOPBACK_PLAINTEXT);
                                url.complete(view.url());
                                side.start(kernels);
                                pageOpen.await(); // the browser's side counts it down however it ends
                            }

                            @Override
                            public void afterRun(DemoReport report) throws InterruptedException {
                                shot.await(); // the page keeps its cluster until then (counted down however it ends)
                                side.stop();
                                view.close();
                            }
                        });
            } catch (IOException | InterruptedException e) {
                url.completeExceptionally(e);
                throw new IllegalStateException(e);
            }
        });
        demo.whenComplete((r, e) -> {
            if (e != null) {
                url.completeExceptionally(e); // the demo ended before its view started: say why, at once
            }
        });
        WebDriver browser = null;
        try {
            browser = browser();
            // The page renders each state anew: an element found may be replaced before it is read.
            WebDriverWait wait = (WebDriverWait) new WebDriverWait(browser, WAIT)
                    .ignoring(StaleElementReferenceException.class);
            browser.get(url.get()); // the demo's cluster and view started (or the demo's failure)
            wait.until(ExpectedConditions.textToBe(By.id("connection"), "live"));
            wait.until(ExpectedConditions.numberOfElementsToBe(By.cssSelector("#kernels .kernel"), 3));
            pageOpen.countDown();

            List<String> handoff = wait.until(d -> {
                WebElement latest = d.findElement(By.cssSelector("#handoffs li[data-handoff]"));
                return List.of(latest.getText(), latest.getAttribute("data-handoff"));
            });
            Matcher m = Pattern.compile("(demo\\+0x[0-9a-f]+)\\s*([A-C]) → ([A-C])").matcher(handoff.get(0));
            assertThat(m.find()).as("a handoff reads 'futex FROM → TO': %s", handoff.get(0)).isTrue();
            assertThat(m.group(2)).isNotEqualTo(m.group(3));
            assertThat(handoff.get(1)).isEqualTo(m.group(1));
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#messages li.handoff")));
            // The side futex: its owner on A boosted from 10 to 60 by B's waiter, on the page.
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.cssSelector("#kernels tr.boosted"),
                    "boosted to 60"));
            wait.until(ExpectedConditions.numberOfElementsToBeMoreThan(By.cssSelector("#messages li"), 20));
            Files.createDirectories(SCREENSHOT.getParent());
            Files.write(SCREENSHOT, ((ChromeDriver) browser).getScreenshotAs(OutputType.BYTES));
        } finally {
            shot.countDown();
            pageOpen.countDown();
            if (browser != null) {
                browser.quit();
            }
        }
        DemoReport report = demo.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(report.violations()).isZero();
        assertThat(report.handoffs()).isPositive();
        assertThat(side.highGotIt()).isTrue();
    }

    /** With CI=true a missing browser fails the run; elsewhere the test is skipped with the command to install it. */
    private static void requireBrowser() {
        if (Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER)) {
            return;
        }
        String missing = "no " + CHROMIUM + " or " + CHROMEDRIVER + ": install them with 'apt-get install -y chromium "
                + "chromium-driver' (or give -Dmachxp.chromium=PATH -Dmachxp.chromedriver=PATH)";
        if ("true".equals(System.getenv("CI"))) {
            fail(missing);
        }
        Assumptions.abort(missing);
    }

    private static WebDriver browser() {
        System.setProperty("SE_OFFLINE", "true"); // Selenium Manager, were it ever run, downloads nothing
        System.setProperty(ChromeDriverService.CHROME_DRIVER_EXE_PROPERTY, CHROMEDRIVER.toString());
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1500,1050");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().withTimeout(WAIT).build(); // its start: Selenium's default is 20 s
        return new ChromeDriver(service, options);
    }

    /** A thread of priority 10 on kernel A holding the side futex, and one of priority 60 on kernel B waiting for it. */
    private static final class SideThreads {
        private KernelClient a;
        private KernelClient b;
        private ThreadClient low;
        private long lowAddress;
        private CompletableFuture<Void> high;
        private volatile boolean highGotIt;

        void start(List<String> kernels) {
            a = KernelClient.connect(kernels.get(0));
            b = KernelClient.connect(kernels.get(1));
            TaskClient taskA = a.taskCreate("side-low");
            lowAddress = taskA.vmMap(DEMO_OBJECT) + SIDE_FUTEX;
            low = taskA.threadCreate(10);
            low.lockFutex(lowAddress);
            TaskClient taskB = b.taskCreate("side-high");
            long highAddress = taskB.vmMap(DEMO_OBJECT) + SIDE_FUTEX;
            ThreadClient highThread = taskB.threadCreate(60);
            high = OwnThreads.run("lock-futex", () -> {
                highThread.lockFutex(highAddress); // until the side's stop: however long the page steps take
                highGotIt = true;
                highThread.unlockFutex(highAddress);
            });
        }

        void stop() {
            low.unlockFutex(lowAddress);
            high.orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
            a.close();
            b.close();
        }

        boolean highGotIt() {
            return highGotIt;
        }
    }
}
