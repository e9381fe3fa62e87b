using Microsoft.Playwright;
using MicroSecure.Testing;

namespace MicroSecure.EndToEnd.Tests;

/// <summary>
/// Debian's Chromium driven by Playwright, headless, one browser for the whole run. Playwright never
/// downloads a browser here: the executable comes from <c>MICROSECURE_CHROMIUM</c> or <c>/usr/bin/chromium</c>,
/// and its absence fails the browser tests with a message saying how to install it.
/// </summary>
public static class DashboardBrowser
{
    private static readonly SemaphoreSlim s_gate = new(1, 1);
    private static IPlaywright? s_playwright;
    private static IBrowser? s_browser;

    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("MICROSECURE_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>Where screenshots go: <c>artifacts/screenshots</c>, next to the test results.</summary>
    public static string ScreenshotFolder
    {
        get
        {
            var folder = Path.Combine(RepositoryPaths.Root, "artifacts", "screenshots");
            Directory.CreateDirectory(folder);
            return folder;
        }
    }

    /// <summary>
    /// A browser of its own that trusts one more server key (by its SPKI pin), for the production rehearsal's
    /// HTTPS: certificate validation stays on for everything else. The caller disposes it.
    /// </summary>
    public static async Task<IBrowser> LaunchTrustingAsync(string spkiPin)
    {
        await GetAsync();
        return await s_playwright!.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = [$"--ignore-certificate-errors-spki-list={spkiPin}"],
        });
    }

    public static async Task<IBrowser> GetAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            Assert.Fail($"The browser tests need Chromium at {ExecutablePath}: run 'apt-get install -y chromium' (scripts/test.sh does) or set MICROSECURE_CHROMIUM.");
        }

        await s_gate.WaitAsync();
        try
        {
            s_playwright ??= await Playwright.CreateAsync();
            return s_browser ??= await s_playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
            });
        }
        finally
        {
            s_gate.Release();
        }
    }
}

/// <summary>
/// One browser context (one person's session) that records every console error, uncaught page error and
/// Content-Security-Policy violation of every page opened in it.
/// </summary>
public sealed class ObservedBrowserContext : IAsyncDisposable
{
    // Runs before the page's own scripts and outside its CSP: collects violations as the browser reports them.
    private const string CspListener = """
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(e.violatedDirective + ' blocked ' + e.blockedURI));
        """;

    private readonly List<IPage> _pages = [];

    private ObservedBrowserContext(IBrowserContext context) => Context = context;

    public IBrowserContext Context { get; }

    public List<string> Problems { get; } = [];

    public static async Task<ObservedBrowserContext> CreateAsync(IBrowser? browser = null)
    {
        browser ??= await DashboardBrowser.GetAsync();
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } });
        await context.AddInitScriptAsync(CspListener);
        return new ObservedBrowserContext(context);
    }

    public async Task<IPage> NewPageAsync()
    {
        var page = await Context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (Problems)
                {
                    Problems.Add($"console error on {page.Url}: {message.Text}");
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (Problems)
            {
                Problems.Add($"page error on {page.Url}: {error}");
            }
        };
        _pages.Add(page);
        return page;
    }

    /// <summary>Every CSP violation the open pages saw, plus the console and page errors.</summary>
    public async Task<IReadOnlyList<string>> AllProblemsAsync()
    {
        var all = new List<string>();
        foreach (var page in _pages.Where(p => !p.IsClosed))
        {
            var violations = await page.EvaluateAsync<string[]>("() => window.__cspViolations ?? []");
            all.AddRange(violations.Select(v => $"CSP violation on {page.Url}: {v}"));
        }

        lock (Problems)
        {
            all.AddRange(Problems);
        }

        return all;
    }

    public async ValueTask DisposeAsync() => await Context.DisposeAsync();
}
