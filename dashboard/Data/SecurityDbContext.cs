using MicroSecure.Dashboard.Model;
using Microsoft.EntityFrameworkCore;

namespace MicroSecure.Dashboard.Data;

public class SecurityDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<SecurityEvent> SecurityEvents => Set<SecurityEvent>();

    public DbSet<SecurityEventRollup> Rollups => Set<SecurityEventRollup>();

    public DbSet<ServiceStatus> ServiceStatuses => Set<ServiceStatus>();

    public DbSet<AuditRun> AuditRuns => Set<AuditRun>();

    public DbSet<Alert> Alerts => Set<Alert>();

    public DbSet<AttackRun> AttackRuns => Set<AttackRun>();

    public DbSet<AlertChange> AlertChanges => Set<AlertChange>();

    public DbSet<AlertDelivery> AlertDeliveries => Set<AlertDelivery>();

    public DbSet<AlertCounter> AlertCounters => Set<AlertCounter>();

    public DbSet<AlertMember> AlertMembers => Set<AlertMember>();

    public DbSet<AlertPending> AlertPending => Set<AlertPending>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        // Table and column names are fixed here because the collector's bulk statements name them.
        modelBuilder.Entity<SecurityEvent>(securityEvent =>
        {
            securityEvent.ToTable("security_events");
            securityEvent.Property(e => e.Id).HasColumnName("id").ValueGeneratedNever();
            securityEvent.Property(e => e.Timestamp).HasColumnName("timestamp");
            securityEvent.Property(e => e.Received).HasColumnName("received");
            securityEvent.Property(e => e.Source).HasColumnName("source").HasMaxLength(SecurityEventLimits.Source);
            securityEvent.Property(e => e.Service).HasColumnName("service").HasMaxLength(SecurityEventLimits.Service);
            securityEvent.Property(e => e.Kind).HasColumnName("kind").HasMaxLength(SecurityEventLimits.Kind);
            securityEvent.Property(e => e.Severity).HasColumnName("severity").HasMaxLength(SecurityEventLimits.Severity);
            securityEvent.Property(e => e.Reason).HasColumnName("reason").HasMaxLength(SecurityEventLimits.Reason);
            securityEvent.Property(e => e.ClientIp).HasColumnName("client_ip").HasMaxLength(SecurityEventLimits.ClientIp);
            securityEvent.Property(e => e.Subject).HasColumnName("subject").HasMaxLength(SecurityEventLimits.Subject);
            securityEvent.Property(e => e.Route).HasColumnName("route").HasMaxLength(SecurityEventLimits.Route);
            securityEvent.Property(e => e.Method).HasColumnName("method").HasMaxLength(SecurityEventLimits.Method);
            securityEvent.Property(e => e.TraceId).HasColumnName("trace_id").HasMaxLength(SecurityEventLimits.TraceId);
            securityEvent.Property(e => e.Policy).HasColumnName("policy").HasMaxLength(SecurityEventLimits.Policy);
            securityEvent.Property(e => e.Count).HasColumnName("count");
            securityEvent.HasIndex(e => new { e.Timestamp, e.Kind });
            securityEvent.HasIndex(e => e.Received);
        });

        modelBuilder.Entity<SecurityEventRollup>(rollup =>
        {
            rollup.ToTable("security_event_rollups");
            rollup.HasKey(r => new { r.Minute, r.Service, r.Kind, r.Reason, r.Policy });
            rollup.Property(r => r.Minute).HasColumnName("minute");
            rollup.Property(r => r.Service).HasColumnName("service").HasMaxLength(SecurityEventLimits.Service);
            rollup.Property(r => r.Kind).HasColumnName("kind").HasMaxLength(SecurityEventLimits.Kind);
            rollup.Property(r => r.Reason).HasColumnName("reason").HasMaxLength(SecurityEventLimits.Reason);
            rollup.Property(r => r.Policy).HasColumnName("policy").HasMaxLength(SecurityEventLimits.Policy);
            rollup.Property(r => r.Count).HasColumnName("count");
        });

        modelBuilder.Entity<ServiceStatus>(status =>
        {
            status.ToTable("service_status");
            status.HasKey(s => new { s.Source, s.Instance });
            status.Property(s => s.Source).HasColumnName("source").HasMaxLength(SecurityEventLimits.Source);
            status.Property(s => s.Instance).HasColumnName("instance").HasMaxLength(SecurityEventLimits.Instance);
            status.Property(s => s.Service).HasColumnName("service").HasMaxLength(SecurityEventLimits.Service);
            status.Property(s => s.LastSeen).HasColumnName("last_seen");
            status.Property(s => s.LastEvent).HasColumnName("last_event");
            status.Property(s => s.Dropped).HasColumnName("dropped");
            status.Property(s => s.Stored).HasColumnName("stored");
        });

        ConfigureAlerts(modelBuilder);
        ConfigureAttackSimulation(modelBuilder);

        // The audit's tables: a run, and its rows deleted with it.
        modelBuilder.Entity<AuditRun>(run =>
        {
            run.ToTable("audit_runs");
            run.Property(r => r.Trigger).HasMaxLength(AuditLimits.Name);
            run.HasIndex(r => r.CompletedAt);
            run.HasMany(r => r.Sources).WithOne().HasForeignKey(s => s.RunId).OnDelete(DeleteBehavior.Cascade);
            run.HasMany(r => r.Services).WithOne().HasForeignKey(s => s.RunId).OnDelete(DeleteBehavior.Cascade);
            run.HasMany(r => r.Findings).WithOne().HasForeignKey(f => f.RunId).OnDelete(DeleteBehavior.Cascade);
            run.HasMany(r => r.Checks).WithOne().HasForeignKey(c => c.RunId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<AuditSource>(source =>
        {
            source.ToTable("audit_sources");
            source.Property(s => s.Name).HasMaxLength(AuditLimits.Name);
            source.Property(s => s.Problems).HasMaxLength(AuditLimits.Problems);
        });
        modelBuilder.Entity<AuditedService>(service =>
        {
            service.ToTable("audit_services");
            service.Property(s => s.Service).HasMaxLength(AuditLimits.Name);
            service.Property(s => s.Problem).HasMaxLength(AuditLimits.Text);
            service.Property(s => s.Environment).HasMaxLength(AuditLimits.Name);
        });
        modelBuilder.Entity<AuditFinding>(finding =>
        {
            finding.ToTable("audit_findings");
            finding.Property(f => f.Service).HasMaxLength(AuditLimits.Name);
            finding.Property(f => f.Package).HasMaxLength(AuditLimits.Name);
            finding.Property(f => f.Version).HasMaxLength(AuditLimits.Version);
            finding.Property(f => f.AdvisoryId).HasMaxLength(AuditLimits.Name);
            finding.Property(f => f.Aliases).HasMaxLength(AuditLimits.Text);
            finding.Property(f => f.Severity).HasMaxLength(AuditLimits.Severity);
            finding.Property(f => f.Summary).HasMaxLength(AuditLimits.Text);
            finding.Property(f => f.Url).HasMaxLength(AuditLimits.Url);
            finding.Property(f => f.FixedIn).HasMaxLength(AuditLimits.Version);
            finding.Property(f => f.Source).HasMaxLength(AuditLimits.Severity);
        });
        modelBuilder.Entity<PostureCheck>(check =>
        {
            check.ToTable("posture_checks");
            check.Property(c => c.Target).HasMaxLength(AuditLimits.Name);
            check.Property(c => c.Kind).HasMaxLength(AuditLimits.Severity);
            check.Property(c => c.Category).HasMaxLength(AuditLimits.Name);
            check.Property(c => c.Name).HasMaxLength(AuditLimits.Name);
            check.Property(c => c.Expected).HasMaxLength(AuditLimits.Text);
            check.Property(c => c.Actual).HasMaxLength(AuditLimits.Text);
            check.Property(c => c.Severity).HasMaxLength(AuditLimits.Severity);
        });
    }

    // The attack simulation's tables: a run, and its scenarios deleted with it.
    private static void ConfigureAttackSimulation(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<AttackRun>(run =>
        {
            run.ToTable("attack_runs");
            run.Property(r => r.Trigger).HasMaxLength(AuditLimits.Name);
            run.Property(r => r.Gateway).HasMaxLength(AuditLimits.Url);
            run.Property(r => r.Status).HasMaxLength(AuditLimits.Severity);
            run.Property(r => r.Failure).HasMaxLength(AuditLimits.Text);
            run.HasIndex(r => r.StartedAt);
            // One running run, whichever replica starts it. The filter is the same SQL on PostgreSQL and SQLite.
            run.HasIndex(r => r.Status).IsUnique().HasFilter("\"Status\" = 'running'").HasDatabaseName("IX_attack_runs_one_running");
            run.HasMany(r => r.Results).WithOne().HasForeignKey(r => r.RunId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<AttackScenarioResult>(result =>
        {
            result.ToTable("attack_results");
            result.Property(r => r.ScenarioId).HasMaxLength(AuditLimits.Name);
            result.Property(r => r.Category).HasMaxLength(AuditLimits.Severity);
            result.Property(r => r.CategoryName).HasMaxLength(AuditLimits.Name);
            result.Property(r => r.Title).HasMaxLength(AuditLimits.Name);
            result.Property(r => r.Sends).HasMaxLength(AuditLimits.Text);
            result.Property(r => r.BlockedWhen).HasMaxLength(AuditLimits.Text);
            result.Property(r => r.Verdict).HasMaxLength(AuditLimits.Severity);
            result.Property(r => r.Answer).HasMaxLength(AuditLimits.Name);
            result.Property(r => r.Detail).HasMaxLength(AuditLimits.Text);
            result.Property(r => r.ExpectedKind).HasMaxLength(SecurityEventLimits.Kind);
            result.Property(r => r.ExpectedReasons).HasMaxLength(AuditLimits.Text);
            result.Property(r => r.RecordedReasons).HasMaxLength(AuditLimits.Text);
            result.Property(r => r.EventIds).HasMaxLength(AuditLimits.Text);
            result.Property(r => r.TraceIds).HasMaxLength(AuditLimits.Text);
        });
    }

    // The alerts' tables. Named here because the evaluator's statements name them.
    private static void ConfigureAlerts(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Alert>(alert =>
        {
            alert.ToTable("alerts");
            alert.Property(a => a.Id).HasColumnName("id");
            alert.Property(a => a.RuleId).HasColumnName("rule_id").HasMaxLength(AlertLimits.RuleId);
            alert.Property(a => a.Key).HasColumnName("key").HasMaxLength(AlertLimits.Key);
            alert.Property(a => a.Severity).HasColumnName("severity").HasMaxLength(AlertLimits.Status);
            alert.Property(a => a.Description).HasColumnName("description").HasMaxLength(AlertLimits.Text);
            alert.Property(a => a.Kinds).HasColumnName("kinds").HasMaxLength(AlertLimits.Text);
            alert.Property(a => a.Status).HasColumnName("status").HasMaxLength(AlertLimits.Status);
            alert.Property(a => a.Count).HasColumnName("count");
            alert.Property(a => a.FirstSeen).HasColumnName("first_seen");
            alert.Property(a => a.LastSeen).HasColumnName("last_seen");
            alert.Property(a => a.OpenedAt).HasColumnName("opened_at");
            alert.Property(a => a.AcknowledgedAt).HasColumnName("acknowledged_at");
            alert.Property(a => a.AcknowledgedBy).HasColumnName("acknowledged_by").HasMaxLength(AlertLimits.By);
            alert.Property(a => a.ResolvedAt).HasColumnName("resolved_at");
            alert.Property(a => a.ResolvedBy).HasColumnName("resolved_by").HasMaxLength(AlertLimits.By);
            // One unresolved alert per rule and key, whichever replica opens it: the second insert becomes an update.
            alert.HasIndex(a => new { a.RuleId, a.Key }).IsUnique().HasFilter("\"resolved_at\" IS NULL").HasDatabaseName("ix_alerts_unresolved");
            alert.HasIndex(a => a.OpenedAt);
            alert.HasMany(a => a.Changes).WithOne().HasForeignKey(c => c.AlertId).OnDelete(DeleteBehavior.Cascade);
            alert.HasMany(a => a.Deliveries).WithOne().HasForeignKey(d => d.AlertId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<AlertChange>(change =>
        {
            change.ToTable("alert_changes");
            change.Property(c => c.Id).HasColumnName("id");
            change.Property(c => c.AlertId).HasColumnName("alert_id");
            change.Property(c => c.At).HasColumnName("at");
            change.Property(c => c.Action).HasColumnName("action").HasMaxLength(AlertLimits.Status);
            change.Property(c => c.By).HasColumnName("by").HasMaxLength(AlertLimits.By);
            change.Property(c => c.Note).HasColumnName("note").HasMaxLength(AlertLimits.Text);
        });

        modelBuilder.Entity<AlertDelivery>(delivery =>
        {
            delivery.ToTable("alert_deliveries");
            delivery.Property(d => d.Id).HasColumnName("id");
            delivery.Property(d => d.AlertId).HasColumnName("alert_id");
            delivery.Property(d => d.Endpoint).HasColumnName("endpoint").HasMaxLength(AlertLimits.Endpoint);
            delivery.Property(d => d.Status).HasColumnName("status").HasMaxLength(AlertLimits.Status);
            delivery.Property(d => d.Attempts).HasColumnName("attempts");
            delivery.Property(d => d.CreatedAt).HasColumnName("created_at");
            delivery.Property(d => d.NextAttemptAt).HasColumnName("next_attempt_at");
            delivery.Property(d => d.LeaseUntil).HasColumnName("lease_until");
            delivery.Property(d => d.DeliveredAt).HasColumnName("delivered_at");
            delivery.Property(d => d.LastStatusCode).HasColumnName("last_status_code");
            delivery.Property(d => d.LastError).HasColumnName("last_error").HasMaxLength(AlertLimits.Error);
            delivery.HasIndex(d => new { d.Status, d.NextAttemptAt });
        });

        modelBuilder.Entity<AlertCounter>(counter =>
        {
            counter.ToTable("alert_counters");
            counter.HasKey(c => new { c.RuleId, c.Key, c.BucketStart });
            counter.Property(c => c.RuleId).HasColumnName("rule_id").HasMaxLength(AlertLimits.RuleId);
            counter.Property(c => c.Key).HasColumnName("key").HasMaxLength(AlertLimits.Key);
            counter.Property(c => c.BucketStart).HasColumnName("bucket_start");
            counter.Property(c => c.Count).HasColumnName("count");
            counter.HasIndex(c => c.BucketStart);
        });

        modelBuilder.Entity<AlertPending>(pending =>
        {
            pending.ToTable("alert_pending");
            pending.Property(p => p.Id).HasColumnName("id");
            pending.Property(p => p.Counts).HasColumnName("counts");
        });

        modelBuilder.Entity<AlertMember>(member =>
        {
            member.ToTable("alert_members");
            member.HasKey(m => new { m.RuleId, m.Key, m.Member });
            member.Property(m => m.RuleId).HasColumnName("rule_id").HasMaxLength(AlertLimits.RuleId);
            member.Property(m => m.Key).HasColumnName("key").HasMaxLength(AlertLimits.Key);
            member.Property(m => m.Member).HasColumnName("member").HasMaxLength(SecurityEventLimits.Subject);
            member.Property(m => m.LastSeen).HasColumnName("last_seen");
            member.HasIndex(m => m.LastSeen);
        });
    }
}

/// <summary>Longest stored value of the alert fields.</summary>
public static class AlertLimits
{
    public const int RuleId = 64;
    public const int Key = 400;
    public const int Text = 500;
    public const int Endpoint = 64;
    public const int Status = 16;
    public const int By = 200;
    public const int Error = 500;
}

/// <summary>Longest accepted value of each event field (the column sizes, and the collector's validation).</summary>
public static class SecurityEventLimits
{
    public const int Source = 100;
    public const int Service = 100;
    public const int Instance = 100;
    public const int Kind = 64;
    public const int Severity = 16;
    public const int Reason = 64;
    public const int ClientIp = 45;
    public const int Subject = 200;
    public const int Route = 300;
    public const int Method = 16;
    public const int TraceId = 32;
    public const int Policy = 64;
}

/// <summary>The model on PostgreSQL, with PostgreSQL's migrations (<c>Data/Migrations/Postgres</c>).</summary>
public sealed class PostgresSecurityDbContext(DbContextOptions<PostgresSecurityDbContext> options) : SecurityDbContext(options);

/// <summary>The model on SQLite (embedded mode), with SQLite's migrations (<c>Data/Migrations/Sqlite</c>).</summary>
public sealed class SqliteSecurityDbContext(DbContextOptions<SqliteSecurityDbContext> options) : SecurityDbContext(options);
