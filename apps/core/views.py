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


def forbidden(request, exception=None):
    return render(request, "core/403.html", status=403)


def placeholder(request):  # TODO(skeleton): replaced by each module's pages
    return render(request, "core/403.html", status=404)
