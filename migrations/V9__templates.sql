-- Server templates (`/v3/vm/templates`, api-decisions.md "Templates and migration projects"):
-- every field of `TemplateRequest` in normalized tables, no JSON.
--
-- `templates` holds the scalar fields. The 1:1 objects `vpc` and `publicip` are rows of their
-- own tables (a row exists exactly when the object was sent), the collections `nics`,
-- `security_groups` and `disk` are rows with a `position`, so they come back in the order they
-- were sent. Child columns carry the API's names: the `id` of a NIC, security group, VPC or
-- disk is the API's attribute (a subnet, group or disk id), not a key; children are keyed by
-- their template and position.
--
-- Every child row carries the template's domain, and its foreign key names the domain with
-- the template, so a child can never belong to another tenant's template. Deleting a template
-- deletes its children.

CREATE TABLE templates (
    id                  uuid PRIMARY KEY,
    domain_id           text NOT NULL,
    -- Milliseconds since the Unix epoch; not served, orders the list (newest first).
    created_at          bigint NOT NULL,
    name                text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
    -- A boolean here and in requests; served as the string "true" or "false".
    is_template         boolean NOT NULL,
    region              text CHECK (char_length(region) <= 255),
    projectid           text CHECK (char_length(projectid) <= 255),
    target_server_name  text CHECK (char_length(target_server_name) <= 255),
    availability_zone   text CHECK (char_length(availability_zone) <= 255),
    volumetype          text CHECK (char_length(volumetype) <= 255),
    flavor              text CHECK (char_length(flavor) <= 255),
    data_volume_type    text CHECK (char_length(data_volume_type) <= 255),
    target_password     text CHECK (char_length(target_password) <= 255),
    image_id            text CHECK (char_length(image_id) <= 255),
    UNIQUE (domain_id, id)
);

CREATE INDEX templates_list_idx ON templates (domain_id, created_at DESC, id DESC);

CREATE TABLE template_vpcs (
    template_id uuid PRIMARY KEY,
    domain_id   text NOT NULL,
    id          text CHECK (char_length(id) <= 255),
    name        text CHECK (char_length(name) <= 255),
    cidr        text CHECK (char_length(cidr) <= 255),
    FOREIGN KEY (domain_id, template_id) REFERENCES templates (domain_id, id) ON DELETE CASCADE
);

CREATE TABLE template_publicips (
    template_id          uuid PRIMARY KEY,
    domain_id            text NOT NULL,
    type                 text NOT NULL CHECK (char_length(type) <= 255),
    bandwidth_size       integer CHECK (bandwidth_size >= 0),
    bandwidth_share_type text CHECK (char_length(bandwidth_share_type) <= 255),
    FOREIGN KEY (domain_id, template_id) REFERENCES templates (domain_id, id) ON DELETE CASCADE
);

CREATE TABLE template_nics (
    template_id uuid NOT NULL,
    domain_id   text NOT NULL,
    position    integer NOT NULL CHECK (position >= 0),
    id          text NOT NULL CHECK (char_length(id) <= 255),
    name        text CHECK (char_length(name) <= 255),
    cidr        text CHECK (char_length(cidr) <= 255),
    ip          text CHECK (char_length(ip) <= 255),
    PRIMARY KEY (template_id, position),
    FOREIGN KEY (domain_id, template_id) REFERENCES templates (domain_id, id) ON DELETE CASCADE
);

CREATE TABLE template_security_groups (
    template_id uuid NOT NULL,
    domain_id   text NOT NULL,
    position    integer NOT NULL CHECK (position >= 0),
    id          text NOT NULL CHECK (char_length(id) <= 255),
    name        text CHECK (char_length(name) <= 255),
    PRIMARY KEY (template_id, position),
    FOREIGN KEY (domain_id, template_id) REFERENCES templates (domain_id, id) ON DELETE CASCADE
);

CREATE TABLE template_disks (
    template_id uuid NOT NULL,
    domain_id   text NOT NULL,
    position    integer NOT NULL CHECK (position >= 0),
    -- The API's disk id (an integer the client sends), kept as sent.
    id          bigint CHECK (id >= 0),
    -- The disk's number, from 0; unique in its template.
    index       integer NOT NULL CHECK (index >= 0),
    name        text CHECK (char_length(name) <= 255),
    disktype    text NOT NULL CHECK (char_length(disktype) <= 255),
    -- GB.
    size        bigint CHECK (size >= 0),
    device_use  text CHECK (char_length(device_use) <= 255),
    PRIMARY KEY (template_id, position),
    UNIQUE (template_id, index),
    FOREIGN KEY (domain_id, template_id) REFERENCES templates (domain_id, id) ON DELETE CASCADE
);
