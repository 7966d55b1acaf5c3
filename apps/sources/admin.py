"""Admin for the grid structure and the facility registry (read-mostly; state changes go through services)."""
from django.contrib import admin

from . import models as m


class TeamMemberInline(admin.TabularInline):
    model = m.TeamMember
    extra = 0


@admin.register(m.Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "township"]
    list_filter = ["township"]


@admin.register(m.GridTeam)
class GridTeamAdmin(admin.ModelAdmin):
    list_display = ["name", "grid", "active"]
    list_filter = ["grid__township", "active"]
    filter_horizontal = ["geofences"]
    inlines = [TeamMemberInline]


@admin.register(m.PierChief)
class PierChiefAdmin(admin.ModelAdmin):
    list_display = ["geofence", "user", "since"]


@admin.register(m.ProtectedSite)
class ProtectedSiteAdmin(admin.ModelAdmin):
    list_display = ["name", "site_type", "township"]
    list_filter = ["site_type", "township"]


@admin.register(m.SiteStandard)
class SiteStandardAdmin(admin.ModelAdmin):
    list_display = ["site_type", "facility_kind", "min_count"]


@admin.register(m.Facility)
class FacilityAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "site", "status", "responsible_department", "last_heartbeat_at"]
    list_filter = ["kind", "status", "responsible_department"]
    readonly_fields = ["status", "last_heartbeat_at"]


@admin.register(m.MarketEntity)
class MarketEntityAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "license_no", "township", "supervising_department", "active"]
    list_filter = ["kind", "active"]
