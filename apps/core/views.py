from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.views.generic import TemplateView

from .permissions import RoleRequiredMixin
from .roles import Role


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True


def home(request):
    """Send each user to the page of their role."""
    if not request.user.is_authenticated:
        return redirect("core:login")
    role = request.user.role
    if role in (Role.GRID_WORKER, Role.PIER_CHIEF):
        return redirect("sources:mobile")
    if role in (Role.DEPT_OFFICER, Role.DEPT_HEAD):
        return redirect("enforcement:inbox")
    if role == Role.AUDITOR:
        return redirect("core:audit")
    return redirect("cockpit:dashboard")


class AuditPage(RoleRequiredMixin, TemplateView):
    template_name = "core/audit.html"
    allowed_roles = [Role.AUDITOR, Role.COMMANDER]


def locked_out(request, credentials=None, *args, **kwargs):
    """django-axes: too many failed sign-ins for this account from this address (429)."""
    from django.conf import settings
    from django.utils.translation import gettext as _

    minutes = round(settings.AXES_COOLOFF_TIME * 60)
    form = auth_views.AuthenticationForm(request)
    message = _("登录失败次数过多，该账号已从本地址锁定 %(minutes)s 分钟，请稍后再试或联系管理员解锁。") % {"minutes": minutes}
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse({"detail": message}, status=429)
    return render(request, "core/login.html", {"form": form, "locked_message": message}, status=429)


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: send them to the platform's icon."""
    from django.templatetags.static import static

    return redirect(static("favicon.svg"), permanent=True)


def forbidden(request, exception=None):
    return render(request, "core/403.html", status=403)


def placeholder(request):  # TODO(skeleton): replaced by each module's pages
    return render(request, "core/403.html", status=404)
