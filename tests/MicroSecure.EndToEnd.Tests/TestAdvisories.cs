using System.Text.Json.Nodes;
using MicroSecure.Testing;

namespace MicroSecure.EndToEnd.Tests;

/// <summary>
/// An OSV folder for the run: the repository's real advisory files, and one test advisory. The services run
/// patched packages, so without it the Dependencies page would have nothing to show; the test advisory is a
/// real one (Npgsql's GHSA-x9vc-6hfv-hg8c) with its id, summary and range changed to cover the Npgsql 10
/// the services are built with. Everything else (inventories from the running services, matching, storage,
/// the page) is the real thing.
/// </summary>
internal static class TestAdvisories
{
    public const string Id = "E2E-TEST-NPGSQL";

    public static string Create(string folder)
    {
        Directory.CreateDirectory(folder);
        var source = Path.Combine(RepositoryPaths.Root, "tools", "advisories", "osv");
        foreach (var file in Directory.EnumerateFiles(source, "*.json"))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)), overwrite: true);
        }

        var advisory = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "GHSA-x9vc-6hfv-hg8c.json")))!;
        advisory["id"] = Id;
        advisory["aliases"] = new JsonArray();
        advisory["summary"] = "End-to-end test advisory (not a real vulnerability)";
        var affected = advisory["affected"]!.AsArray()[0]!;
        affected["ranges"] = JsonNode.Parse("""[{"type":"ECOSYSTEM","events":[{"introduced":"10.0.0"},{"fixed":"10.99.0"}]}]""");
        affected.AsObject().Remove("versions");
        advisory["affected"] = new JsonArray(affected.DeepClone());
        File.WriteAllText(Path.Combine(folder, Id + ".json"), advisory.ToJsonString());
        return folder;
    }
}
