"""Settings of the web app: a typed model, so a misspelt option is an error rather than a silent default."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# The environment variable behind each setting (WebSettings.from_env), for errors that name it.
ENV_NAMES = {"tile_url": "CASELINK_WEB_TILE_URL", "assets_dir": "CASELINK_WEB_ASSETS",
             "secure_cookies": "CASELINK_WEB_INSECURE_COOKIES", "pseudonymise_oversight": "CASELINK_WEB_PSEUDONYMISE"}
INSECURE_COOKIES_SETTING = "--insecure-cookies or CASELINK_WEB_INSECURE_COOKIES=1"
REPO_ASSETS = Path(__file__).resolve().parents[3] / "web" / "node_modules"


class WebSettings(BaseModel):
    """What an operator may configure.  Defaults are the safe choice for a deployment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    secure_cookies: bool = Field(default=True,
                                 description="Mark cookies Secure; turn off only for http://localhost.")
    idle_minutes: int = Field(default=30, ge=1, description="A session ends after this many idle minutes.")
    lockout_failures: int = Field(default=5, ge=1, description="Failed sign-ins that lock an account.")
    lockout_minutes: int = Field(default=10, ge=1, description="How long a locked account stays locked.")
    pseudonymise_oversight: bool = Field(
        default=True,
        description="Show oversight users pseudonyms instead of victim tags, ethnicity, narrative and entity values.",
    )
    tile_url: str | None = Field(
        default=None, description="Map tile URL template ({z}/{x}/{y}); none by default so locations never leave.")
    assets_dir: Path | None = Field(
        default=None, description="Folder holding the npm-installed front-end packages (web/node_modules).")
    page_size: int = Field(default=50, ge=1, le=500, description="Rows per page in lists.")

    @field_validator("tile_url")
    @classmethod
    def tiles_over_https(cls, url: str | None) -> str | None:
        # Each tile request names a place on the map: over plain http anyone on the path sees them.
        if url is not None and not url.startswith("https://"):
            raise ValueError("must be an https:// URL template such as https://tiles.example/{z}/{x}/{y}.png")
        return url

    @classmethod
    def from_env(cls, **overrides: object) -> WebSettings:
        """Settings from CASELINK_WEB_* variables, then explicit overrides (the CLI options)."""
        values: dict[str, object] = {}
        if os.environ.get("CASELINK_WEB_INSECURE_COOKIES") == "1":
            values["secure_cookies"] = False
        if os.environ.get("CASELINK_WEB_TILE_URL"):
            values["tile_url"] = os.environ["CASELINK_WEB_TILE_URL"]
        if os.environ.get("CASELINK_WEB_PSEUDONYMISE") == "0":
            values["pseudonymise_oversight"] = False
        if os.environ.get("CASELINK_WEB_ASSETS"):
            values["assets_dir"] = Path(os.environ["CASELINK_WEB_ASSETS"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)

    def resolved_assets_dir(self) -> Path | None:
        """The node_modules folder if Leaflet is installed there, else None (pages use the fallback)."""
        folder = self.assets_dir or REPO_ASSETS
        return folder if (folder / "leaflet" / "dist" / "leaflet.js").is_file() else None


def settings_problem(exc: ValidationError) -> str:
    """A refused setting as one line naming the variable that set it, e.g. ``CASELINK_WEB_TILE_URL: ...``."""
    problem = exc.errors()[0]
    field = str(problem["loc"][0]) if problem["loc"] else "settings"
    return f"{ENV_NAMES.get(field, field)}: {problem['msg'].removeprefix('Value error, ')}"


def insecure_cookies_refusal(host: str | None) -> str | None:
    """Why cookies without ``Secure`` may not be used on ``host``, or None when it is loopback.

    The one rule for both entry points: ``caselink serve`` applies it to ``--host`` before it starts,
    and the app applies it to the address each sign-in request arrived on (under
    ``uvicorn caselink.web.asgi:app`` nothing else knows where the server listens).  A cookie without
    Secure crosses any network in clear, so only a loopback address may use one.
    """
    name = (host or "").strip().removeprefix("[").removesuffix("]")
    if name.lower() == "localhost":
        return None
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address is not None and address.is_loopback:
        return None
    where = name or "an unknown address"
    return (f"cookies without Secure are only allowed on localhost (127.0.0.1, ::1), not on {where}; "
            "serve over HTTPS and leave cookies secure, or listen on 127.0.0.1")
